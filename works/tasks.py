from celery import shared_task


@shared_task(
    name="works.anchor_tick",
    autoretry_for=(ConnectionError, OSError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=None,
    ignore_result=True,
)
def anchor_tick() -> dict:
    """Seal, send and follow anchoring batches. Repeated or overlapping runs are harmless."""
    from works.services import anchor_tick as run

    return run()
