from core.tasks import tick_task


@tick_task("works.anchor_tick")
def anchor_tick() -> dict:
    """Register what signed portfolios still have awaiting, then seal, send and follow anchoring
    batches. Repeated or overlapping runs are harmless."""
    from works.anchoring import anchor_tick as run
    from works.portfolios import portfolios_register_pending

    registered = portfolios_register_pending()
    return {**run(), "portfolio_works_registered": registered}
