"""What the ledger asks of the apps above it, without importing them (as works/hooks.py does):
`settings.ROYALTIES_HOOKS` maps each hook to a dotted path."""

from django.conf import settings
from django.utils.module_loading import import_string


def sale_for_quote(*, quote_id: str) -> dict | None:
    """The sale a `Credited` event pays out: {"buyer", "sold_work_id", "gross", "uses", "split"}
    (split: the quote's lines, each with address, amount, role, party, bps, work_id), or None
    when no quote of that id is known."""
    path = getattr(settings, "ROYALTIES_HOOKS", {}).get("sale_for_quote")
    return import_string(path)(quote_id=quote_id) if path else None
