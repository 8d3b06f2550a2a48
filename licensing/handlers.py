"""Chain-event subscribers of licensing (declared in settings.CHAIN_SUBSCRIBERS as "licences")."""

from licensing import services

PURCHASES = ("LicensePurchased", "TokenLicensePurchased")
REORG_REASON = "The payment's block was reorganised away; the payment no longer exists on chain."


def on_purchase(event):
    """LicensePurchased (ETH) and TokenLicensePurchased (the stablecoin) issue a licence; an AI
    fetch's TokenLicensePurchased has no quote here and issues nothing (it is a PaidFetch)."""
    if event.name in PURCHASES:
        services.licence_issue_from_event(event)


def on_purchase_orphaned(event):
    if event.name in PURCHASES:
        services.licence_void_from_event(event, reason=REORG_REASON)
