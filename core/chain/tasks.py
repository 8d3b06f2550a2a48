from core.chain.events import index_all
from core.chain.sender import transactions_refresh
from core.tasks import tick_task


@tick_task("chain.index_tick")
def index_tick() -> dict:
    """Index every contract's confirmed events, then run due deliveries. Overlapping runs are
    harmless: events are stored once and each delivery is claimed before it runs."""
    return index_all()


@tick_task("chain.sends_tick")
def sends_tick() -> dict:
    """Follow every open transaction the portal sent (escrow releases, offer revocations …):
    broadcast what a killed worker stored but never sent, re-send what the node dropped, bump
    what is stuck, confirm what is deep enough."""
    return {"refreshed": transactions_refresh()}
