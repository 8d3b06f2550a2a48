from portal.tasks import tick_task


@tick_task("disputes.tick")
def tick() -> dict:
    """Release decided escrow on chain; tell parties when a revocation is anchored."""
    from disputes import services

    return {
        "paused": services.sales_pauses_send(),
        "released": services.escrow_releases_send(),
        "anchored": services.revocations_anchored_note(),
    }
