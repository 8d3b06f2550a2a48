from celery import shared_task


@shared_task(
    name="licensing.index_events",
    autoretry_for=(ConnectionError, OSError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=None,
    ignore_result=True,
)
def index_events() -> int:
    """Read confirmed LicenseMarket events and issue licences. Overlapping runs are harmless."""
    from portal.chain.contracts import MARKET
    from portal.chain.events import events_index

    return events_index(contract_name=MARKET)
