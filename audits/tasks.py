"""Audit tasks: one job per audit fans out one task per part (a Celery chord), so any number of
workers share a large dataset; the chord's callback finishes the audit. Parts are acked late and
re-queued when their worker dies (`task_reject_on_worker_lost`), and `part_run` is idempotent, so
a part re-run after a crash stores its matches once. A beat tick finishes audits whose callback
was lost."""

import logging
import os

from celery import chord, shared_task

from audits import services
from audits.models import Audit
from core.tasks import tick_task

logger = logging.getLogger(__name__)
PART_TIME_LIMIT = 3600


@shared_task(name="audits.start", ignore_result=True, acks_late=True)
def audit_start(audit_id: int) -> None:
    audit = Audit.objects.filter(pk=audit_id, status=Audit.Status.QUEUED).first()
    if audit is None:
        return
    try:
        part_ids = services.audit_plan(audit=audit)
    except Exception as exc:  # a snapshot that cannot be written: say so on the audit's page
        logger.exception("audit %s could not start", audit_id)
        services.audit_fail(audit=audit, error=f"The audit could not start: {exc}")
        return
    if not part_ids:
        services.audit_finish(audit_id=audit_id)
        return
    services.parts_queued(part_ids=part_ids)
    chord(audit_part.si(part_id) for part_id in part_ids)(audit_done.si(audit_id))


@shared_task(
    bind=True,
    name="audits.part",
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=PART_TIME_LIMIT,
    soft_time_limit=PART_TIME_LIMIT - 60,
)
def audit_part(self, part_id: int) -> int:
    """Never raises: an unexpected error fails this part with a message and the chord goes on."""
    from django.utils import timezone

    from audits.models import AuditPart

    try:
        services.part_run(part_id=part_id, worker=f"{self.request.hostname}:{os.getpid()}")
    except Exception as exc:
        logger.exception("audit part %s failed", part_id)
        AuditPart.objects.filter(pk=part_id).update(
            status=AuditPart.Status.FAILED,
            error=f"This part stopped on an internal error ({type(exc).__name__}); the others went on.",
            finished_at=timezone.now(),
        )
    return part_id


@shared_task(name="audits.done", ignore_result=True)
def audit_done(audit_id: int) -> None:
    services.audit_finish(audit_id=audit_id)


@tick_task("audits.tick")
def audits_tick() -> dict:
    """Send again what a broker or a dead worker lost (see `services.audits_stalled`), and finish
    audits whose chord callback never came."""
    starts, parts = services.audits_stalled()
    for audit_id in starts:
        logger.warning("audit %s was never started (a lost message): starting it again", audit_id)
        audit_start.delay(audit_id)
    if parts:
        logger.warning("audit parts %s lost their worker or their message: queued again", parts)
        services.parts_queued(part_ids=parts)
        for part_id in parts:
            audit_part.delay(part_id)
    finished = 0
    for audit_id in Audit.objects.filter(status=Audit.Status.RUNNING).values_list("pk", flat=True):
        audit = services.audit_finish(audit_id=audit_id)
        finished += bool(audit and audit.finished)
    return {"started_again": len(starts), "parts_queued_again": len(parts), "finished": finished}
