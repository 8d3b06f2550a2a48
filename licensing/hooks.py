"""What licensing's pages ask of the apps above it, without importing them.

licensing sits below training in the layers (docs/architecture.md). The work page and the
Licences page show what AI companies bought; `settings.LICENSING_HOOKS` maps each hook to a dotted
path (as works/hooks.py does). A hook left unset adds nothing."""

from django.conf import settings
from django.utils.module_loading import import_string


def _hook(name: str):
    path = getattr(settings, "LICENSING_HOOKS", {}).get(name)
    return import_string(path) if path else None


def work_page_context(*, work, address: str | None, is_party: bool) -> dict:
    """More of the work page for its parties (`address`: the viewer's wallet, if any)."""
    hook = _hook("work_page_context")
    return hook(work=work, address=address, is_party=is_party) if hook is not None else {}


def sales_page_context(*, user) -> dict:
    """More of the Licences page: the person's sales to AI companies."""
    hook = _hook("sales_page_context")
    return hook(user=user) if hook is not None else {}
