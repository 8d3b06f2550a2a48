"""Chain-event subscribers of training (declared in settings.CHAIN_SUBSCRIBERS as "training")."""

from royalties.models import Settlement
from training.services import licences_issue_from_settlement, licences_void_from_settlement


def on_settled(event):
    """Settled issues the training licences of a licence settlement or pays an invoice."""
    settlement = Settlement.objects.filter(settlement_id=event.args["settlementId"]).first()
    if settlement is not None and int(event.args["price"]) == int(settlement.price_wei):
        licences_issue_from_settlement(settlement=settlement, event=event)


def on_settled_orphaned(event):
    settlement = Settlement.objects.filter(settlement_id=event.args["settlementId"]).first()
    if settlement is not None:
        licences_void_from_settlement(settlement=settlement)
