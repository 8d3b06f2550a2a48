"""Chain-event subscribers of licensing (declared in settings.CHAIN_SUBSCRIBERS)."""

from licensing import services
from licensing.training import licences_issue_from_settlement, licences_void_from_settlement
from royalties.models import Settlement

REORG_REASON = "The payment's block was reorganised away; the payment no longer exists on chain."


def on_purchase(event):
    """LicensePurchased issues a licence; Settled issues training licences or pays an invoice."""
    if event.name == "LicensePurchased":
        services.licence_issue_from_event(event)
    elif event.name == "Settled":
        settlement = Settlement.objects.filter(settlement_id=event.args["settlementId"]).first()
        if settlement is not None and int(event.args["price"]) == int(settlement.price_wei):
            licences_issue_from_settlement(settlement=settlement, event=event)


def on_purchase_orphaned(event):
    if event.name == "LicensePurchased":
        services.licence_void_from_event(event, reason=REORG_REASON)
    elif event.name == "Settled":
        settlement = Settlement.objects.filter(settlement_id=event.args["settlementId"]).first()
        if settlement is not None:
            licences_void_from_settlement(settlement=settlement)
