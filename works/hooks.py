"""What works asks of the apps above it, without importing them.

works sits low in the layers (docs/architecture.md): disputes, licensing and royalties import
works, never the other way. Where a works action must let an upper app act (a held registration
opens a dispute) or a works page shows an upper app's state (a work in dispute), it calls a hook
named here; `settings.WORKS_HOOKS` maps each to a dotted path, as `CHAIN_SUBSCRIBERS` does for
chain events. A hook left unset does nothing (works alone still runs)."""

from django.conf import settings
from django.utils.module_loading import import_string


def _hook(name: str):
    path = getattr(settings, "WORKS_HOOKS", {}).get(name)
    return import_string(path) if path else None


def registration_held(*, registration) -> None:
    """A registration was held by the near-duplicate check (called inside the signing
    transaction, so what the hook writes commits with the hold)."""
    hook = _hook("registration_held")
    if hook is not None:
        hook(registration=registration)


def portfolio_signed(*, portfolio) -> None:
    """A portfolio's works were registered with its one signature (after that transaction):
    licensing offers its preset's terms for each."""
    hook = _hook("portfolio_signed")
    if hook is not None:
        hook(portfolio=portfolio)


def licence_presets() -> list[tuple[str, str]]:
    """The licence presets a portfolio may offer for all its works: [(key, name)]."""
    hook = _hook("licence_presets")
    return hook() if hook is not None else []


def works_in_registration_dispute(*, work_ids) -> set[int]:
    """Of these works, those whose registration is disputed now."""
    hook = _hook("works_in_registration_dispute")
    return hook(work_ids=work_ids) if hook is not None else set()


def works_escrowed(*, work_ids) -> set[int]:
    """Of these works, those whose revenue goes to escrow (disputed or revoked)."""
    hook = _hook("works_escrowed")
    return hook(work_ids=work_ids) if hook is not None else set()


def in_registration_dispute(*, work_ref: str = "work_id"):
    """A query expression, true where the row's work (`OuterRef(work_ref)`) is disputed now."""
    from django.db.models import Value

    hook = _hook("in_registration_dispute")
    return hook(work_ref=work_ref) if hook is not None else Value(False)


def registration_dispute_for(*, work):
    """The open dispute of this work's registration, or None."""
    hook = _hook("registration_dispute_for")
    return hook(work=work) if hook is not None else None


def held_registration_decide(*, registration, moderator, decision: str, reason: str) -> bool:
    """Decide a held registration through its dispute (`decision` "uphold" rejects the
    registration, "reject" releases it). False when no dispute holds it."""
    hook = _hook("held_registration_decide")
    if hook is None:
        return False
    return hook(registration=registration, moderator=moderator, decision=decision, reason=reason)


def work_page_context(*, request, work) -> dict:
    """What the work page shows of the apps above works (offers, rights, the work's money for its
    parties): more template context."""
    hook = _hook("work_page_context")
    return hook(request=request, work=work) if hook is not None else {}


def work_page_response(*, response, request, work):
    """The work page's response, as the apps above finish it (rights headers)."""
    hook = _hook("work_page_response")
    return hook(response=response, request=request, work=work) if hook is not None else response


def derivable_parents(*, user):
    """The works this user may name as parents of a new work (a licence allowing derivatives)."""
    from works.models import Work

    hook = _hook("derivable_parents")
    return hook(user=user) if hook is not None else Work.objects.none()


def derivation_check(*, user, parents) -> list:
    """Check the parents a new work names (raises a PortalError with the reason); returns what
    `derivation_links_create` stores."""
    hook = _hook("derivation_check")
    return hook(user=user, parents=parents) if hook is not None else []


def derivation_links_create(*, work, specs) -> None:
    """Link a new work to its checked parents (inside the upload's transaction)."""
    hook = _hook("derivation_links_create")
    if hook is not None:
        hook(work=work, specs=specs)
