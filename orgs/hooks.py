"""What an organisation's page shows of the apps above orgs (its AI training: licences, runs,
invoices), without importing them: `settings.ORGS_HOOKS` maps each hook to a dotted path, as
works/hooks.py does. A hook left unset adds nothing."""

from django.conf import settings
from django.utils.module_loading import import_string


def org_page_context(*, org) -> dict:
    path = getattr(settings, "ORGS_HOOKS", {}).get("org_page_context")
    return import_string(path)(org=org) if path else {}
