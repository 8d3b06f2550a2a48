"""What licensing (and the money below it) adds to works' pages, through works.hooks (declared in
settings.WORKS_HOOKS): works never imports licensing."""

from core.selectors import wallet_address_for_user
from licensing import hooks, rights
from licensing.selectors import fetch_summary, offers_for_work
from licensing.services import OFFERABLE
from royalties.selectors import work_earnings, work_parties
from works.models import is_moderator


def work_page_context(*, request, work) -> dict:
    """Offers, rights (JSON-LD), and for the work's parties (owner, co-creators, moderators) what
    it earned and (through licensing.hooks) which training uses were sold."""
    viewer = request.user
    offers = offers_for_work(work=work, viewer=viewer) if work.is_public else []
    address = wallet_address_for_user(user=viewer) if viewer.is_authenticated else None
    is_owner = viewer.is_authenticated and viewer.pk == work.owner_id
    is_party = work.is_public and (
        is_owner or is_moderator(viewer) or (address is not None and address in work_parties(work=work))
    )
    return {
        "offers": offers,
        "can_offer": work.registration.status in OFFERABLE,
        "json_ld": rights.json_ld(request=request, work=work, offers=offers) if work.is_public else "",
        "is_party": is_party,
        "work_earnings": work_earnings(work=work) if is_party else [],
        "ai_fetches": fetch_summary(work=work) if is_party else None,
        **hooks.work_page_context(work=work, address=address, is_party=is_party),
    }


def work_page_response(*, response, request, work):
    """The machine-readable rights of the work in the page's headers."""
    return rights.rights_headers(response, request=request, work=work)
