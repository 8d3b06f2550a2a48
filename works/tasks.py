from celery import shared_task

from portal.tasks import CHAIN_TASK_OPTIONS


@shared_task(name="works.anchor_tick", **CHAIN_TASK_OPTIONS)
def anchor_tick() -> dict:
    """Seal, send and follow anchoring batches. Repeated or overlapping runs are harmless."""
    from works.services import anchor_tick as run

    return run()
