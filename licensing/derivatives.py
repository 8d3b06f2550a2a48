"""Declaring that a new work derives from licensed works, and the parents' approval.

A creator may name as parents only works they hold a valid licence to whose terms allow
derivatives. Each parent then earns its terms' derivative revenue share of every sale of the
new work, stacked up the tree (royalties.splits). Refused at declaration: more than
MAX_PARENTS parents, a tree deeper than MAX_DEPTH generations, or ancestors asking for more than
100 % in total. Where the parent's terms ask for approval, the link waits for the parent's
owner, and the new work's registration cannot be signed until every parent has approved.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from core.errors import PortalError
from core.notifications import notify
from core.people import user_label
from licensing.models import Licence
from royalties.models import BPS
from royalties.selectors import MAX_DEPTH, MAX_PARENTS, ancestor_edges
from works.models import DerivationLink, Work

ERR_TOO_MANY_PARENTS = "A work can derive from at most {n} works."
ERR_NO_LICENCE = (
    "You need a valid licence to “{title}” that allows derivative works before declaring it a parent."
)
ERR_TOO_DEEP = "This work would have ancestors {depth} generations up; the limit is {n}."
ERR_OVER_100 = (
    "The works this one derives from ask for {pct} % of its revenue in total (more than 100 %), "
    "so it cannot be registered as their derivative."
)
ERR_NOT_PARENT_OWNER = "Only the creator of the parent work decides on its derivatives."
ERR_NOT_PENDING = "This derivation has already been decided ({status})."


class DerivationError(PortalError):
    code = "derivation_refused"


@dataclass(frozen=True)
class ParentSpec:
    parent: Work
    licence: Licence
    share_bps: int
    needs_approval: bool


def derivation_check(*, user, parents: list[Work]) -> list[ParentSpec]:
    """What declaring these parents would create, or a DerivationError saying why not."""
    parents = list(dict.fromkeys(parents))
    if len(parents) > MAX_PARENTS:
        raise DerivationError(ERR_TOO_MANY_PARENTS.format(n=MAX_PARENTS))
    specs = []
    for parent in parents:
        licence = (
            Licence.objects.valid()
            .filter(
                work=parent, licensee=user, terms__derivatives_allowed=True, work__in=Work.objects.public()
            )
            .select_related("terms")
            .order_by("-issued_at")
            .first()
        )
        if licence is None:
            raise DerivationError(ERR_NO_LICENCE.format(title=parent.title))
        terms = licence.terms.terms
        specs.append(ParentSpec(parent, licence, terms.derivative_rev_share_bps, terms.derivatives_approval))
    edges = ancestor_edges(work=Work(), extra_links=[(s.parent, s.share_bps) for s in specs])
    depth = max((d for _, _, d in edges), default=0)
    if depth > MAX_DEPTH:
        raise DerivationError(ERR_TOO_DEEP.format(depth=depth, n=MAX_DEPTH))
    total = sum(bps for _, bps, _ in edges)
    if total > BPS:
        raise DerivationError(ERR_OVER_100.format(pct=f"{total / 100:g}"))
    return specs


def derivation_links_create(*, work: Work, specs: list[ParentSpec]) -> list[DerivationLink]:
    """Link a new work to its parents; a parent whose terms ask for approval waits for its
    creator, who is told."""
    for spec in specs:
        if spec.needs_approval:
            notify(
                user=spec.parent.owner,
                kind="derivative_request",
                text=f"{user_label(work.owner, short=True)} asks to register “{work.title}” as a "
                f"derivative of your “{spec.parent.title}”: approve or refuse it.",
                url=spec.parent.get_absolute_url(),
            )
    return DerivationLink.objects.bulk_create(
        [
            DerivationLink(
                child=work,
                parent=spec.parent,
                licence=spec.licence,
                share_bps=spec.share_bps,
                status=DerivationLink.Status.PENDING
                if spec.needs_approval
                else DerivationLink.Status.APPROVED,
                decided_at=None if spec.needs_approval else timezone.now(),
            )
            for spec in specs
        ]
    )


def derivation_decide(*, link: DerivationLink, user, approve: bool) -> DerivationLink:
    """The parent's creator approves or refuses a derivative that asked."""
    if link.parent.owner_id != user.pk:
        raise DerivationError(ERR_NOT_PARENT_OWNER, status=403)
    status = DerivationLink.Status.APPROVED if approve else DerivationLink.Status.REFUSED
    with transaction.atomic():
        if (
            DerivationLink.objects.filter(pk=link.pk, status=DerivationLink.Status.PENDING).update(
                status=status, decided_at=timezone.now()
            )
            != 1
        ):
            link.refresh_from_db()
            raise DerivationError(ERR_NOT_PENDING.format(status=link.get_status_display()), status=409)
    link.refresh_from_db()
    return link


def derivable_parents_for(*, user):
    """Public works this user may name as parents: they hold a valid licence allowing derivatives."""
    ids = (
        Licence.objects.valid()
        .filter(licensee=user, terms__derivatives_allowed=True)
        .values_list("work_id", flat=True)
    )
    return Work.objects.public().filter(pk__in=ids).exclude(owner=user).order_by("title")
