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
