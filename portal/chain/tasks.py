from portal.tasks import tick_task


@tick_task("chain.index_tick")
def index_tick() -> dict:
    """Index every contract's confirmed events, then run due deliveries. Overlapping runs are
    harmless: events are stored once and each delivery is claimed before it runs."""
    from portal.chain.events import index_all

    return index_all()
