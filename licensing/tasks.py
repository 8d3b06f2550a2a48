from celery import shared_task

from portal.tasks import CHAIN_TASK_OPTIONS


@shared_task(name="licensing.index_events", **CHAIN_TASK_OPTIONS)
def index_events() -> int:
    """Read confirmed LicenseMarket events and issue licences. Overlapping runs are harmless."""
    from portal.chain.contracts import MARKET
    from portal.chain.events import events_index

    return events_index(contract_name=MARKET)
