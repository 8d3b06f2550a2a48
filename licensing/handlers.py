"""Chain-event subscribers of licensing (declared in settings.CHAIN_SUBSCRIBERS as "licences")."""

from licensing import services

REORG_REASON = "The payment's block was reorganised away; the payment no longer exists on chain."


def on_purchase(event):
    """LicensePurchased issues a licence (Settled is training's: training.handlers)."""
    if event.name == "LicensePurchased":
        services.licence_issue_from_event(event)


def on_purchase_orphaned(event):
    if event.name == "LicensePurchased":
        services.licence_void_from_event(event, reason=REORG_REASON)
