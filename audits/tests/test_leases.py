"""Audit parts are leased: a part runs on one worker at a time, a dead worker's part is taken
over (at once on its own machine, after its lease elsewhere), and audits.tick sends again what a
broker lost (services.audits_stalled)."""

import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from audits import services
from audits.models import Audit, AuditPart
from audits.synthetic import encode, picture, write_shard
from core.leases import holder_name

pytestmark = pytest.mark.django_db


def _dead_local_holder() -> str:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return f"w1@{holder_name().rsplit(':', 1)[0]}:{gone.stdout.strip()}"


@pytest.fixture
def planned(publish, creator, tmp_path):
    work, data = publish(creator, picture(42), title="Heron")
    files = []
    for n in range(2):
        shard = tmp_path / f"{n:05d}.tar"
        write_shard(
            shard, [{"key": f"k{n}", "data": data}, {"key": f"u{n}", "data": encode(picture(90 + n), "JPEG")}]
        )
        files.append((str(shard), shard.name))
    audit = services.audit_create(name="leased", files=files)
    part_ids = services.audit_plan(audit=audit)
    services.parts_queued(part_ids=part_ids)
    return audit, part_ids


def test_a_part_held_by_a_live_worker_elsewhere_is_left_alone(planned):
    audit, (first, _) = planned
    later = timezone.now() + timedelta(seconds=60)
    AuditPart.objects.filter(pk=first).update(status="running", worker="other-host:9", lease_until=later)
    part = services.part_run(part_id=first)  # a duplicate message: not run twice at once
    assert part.status == "running" and part.worker == "other-host:9" and part.attempts == 0
    AuditPart.objects.filter(pk=first).update(lease_until=timezone.now() - timedelta(seconds=1))
    part = services.part_run(part_id=first)  # the lease ran out: the holder is presumed dead
    assert part.status == "done" and part.attempts == 1 and part.worker == holder_name()


def test_a_dead_worker_on_this_machine_loses_its_part_at_once(planned):
    _, (first, _) = planned
    AuditPart.objects.filter(pk=first).update(
        status="running", worker=_dead_local_holder(), lease_until=timezone.now() + timedelta(minutes=10)
    )
    assert services.audits_stalled()[1] == [first]
    assert services.part_run(part_id=first).status == "done"


def test_the_tick_finds_what_was_lost_and_nothing_else(planned, settings):
    audit, (first, second) = planned
    now = timezone.now()
    assert services.audits_stalled(now=now) == ([], [])  # just queued: waiting is not lost
    # a worker runs the first part; the second waits behind it: not lost either
    AuditPart.objects.filter(pk=first).update(
        status="running", worker="other:1", lease_until=now + timedelta(seconds=60)
    )
    later = now + timedelta(seconds=settings.AUDIT_STALLED_SECONDS + 1)
    assert services.audits_stalled(now=now + timedelta(seconds=30)) == ([], [])
    # by then its lease ran out and nothing else happened: both are sent again (harmless: each
    # is claimed once)
    assert services.audits_stalled(now=later) == ([], [first, second])
    # nothing running and nothing happened for a while: the pending part's message was lost
    AuditPart.objects.filter(pk=first).update(status="done", finished_at=now)
    assert services.audits_stalled(now=later) == ([], [second])
    # an audit whose start message was lost
    Audit.objects.filter(pk=audit.pk).update(status="queued", created_at=now - timedelta(hours=1))
    AuditPart.objects.filter(audit=audit).delete()
    assert services.audits_stalled(now=now)[0] == [audit.pk]


def test_a_busy_queue_is_not_flooded_and_each_lost_part_is_sent_once(planned, settings, tmp_path):
    """Another audit's part moving means the queue moves: waiting parts are not sent again (the
    soak on the file-system broker once queued the same parts again every few seconds, each
    twice, and took minutes to drain the copies). Once nothing moves, each is sent once."""
    audit, (first, second) = planned
    busy = services.audit_create(name="busy", files=[(str(tmp_path / "00000.tar"), "00000.tar")])
    (other, *_rest) = services.audit_plan(audit=busy)
    now = timezone.now()
    AuditPart.objects.filter(audit=audit).update(queued_at=now - timedelta(hours=1))
    AuditPart.objects.filter(pk=other).update(
        status="running", worker="other-host:9", lease_until=now + timedelta(seconds=60), started_at=now
    )
    assert services.audits_stalled(now=now)[1] == []  # waiting behind a part that runs
    an_hour_ago = now - timedelta(hours=1)
    AuditPart.objects.filter(pk=other).update(status="done", started_at=an_hour_ago, finished_at=an_hour_ago)
    AuditPart.objects.filter(audit=busy).update(queued_at=now - timedelta(hours=1))
    assert services.audits_stalled(now=now)[1] == [first, second]  # once each


def test_the_tick_queues_again_and_the_parts_finish(planned, settings):
    from audits.tasks import audits_tick

    audit, (first, second) = planned
    AuditPart.objects.filter(pk=first).update(status="running", worker=_dead_local_holder())
    AuditPart.objects.filter(audit=audit).update(queued_at=timezone.now() - timedelta(hours=1))
    result = audits_tick.apply().get()  # tasks run inline in tests: the re-queued parts run now
    assert result["parts_queued_again"] == 2 and result["finished"] == 1
    audit.refresh_from_db()
    assert audit.status == "done" and audit.matches.count() == 2
    assert set(AuditPart.objects.filter(audit=audit).values_list("attempts", flat=True)) == {1}
