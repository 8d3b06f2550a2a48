from core.tasks import tick_task
from disputes.flows import decision as decisions
from disputes.flows import escrow


@tick_task("disputes.tick")
def tick() -> dict:
    """Mirror disputes on chain (sales paused and resumed, decided escrow released); tell parties
    when a revocation is anchored."""
    return {
        "paused": escrow.sales_pauses_send(),
        "released": escrow.escrow_releases_send(),
        "anchored": decisions.revocations_anchored_note(),
    }
