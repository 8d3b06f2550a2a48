from core.tasks import tick_task


@tick_task("works.anchor_tick")
def anchor_tick() -> dict:
    """Seal, send and follow anchoring batches. Repeated or overlapping runs are harmless."""
    from works.anchoring import anchor_tick as run

    return run()
