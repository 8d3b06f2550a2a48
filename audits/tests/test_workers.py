"""Audits on real Celery workers over the Redis broker: two worker processes share one audit's
parts (a chord) and its callback finishes it; a worker process killed in the middle of a part
has that part re-run with no duplicate match."""

import hashlib
import os
import signal
import time

import pyarrow.parquet as pq
import pytest

from audits import services
from audits.models import Audit, AuditMatch, AuditPart
from audits.synthetic import commonpool_table, encode, picture, write_shard
from audits.tasks import audit_start

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


def _wait(condition, timeout=120, what="", logs=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)  # a real worker on a real broker: there is no clock to move
    raise AssertionError(f"timed out waiting for {what}\n{logs() if logs else ''}")


@pytest.fixture
def works(publish, creator):
    return [publish(creator, picture(300 + i), title=f"w{i}") for i in range(3)]


def test_two_workers_share_an_audit_over_redis(works, celery_workers, tmp_path):
    first = celery_workers("w1")
    second = celery_workers("w2")
    files = []
    for n in range(6):
        shard = tmp_path / f"{n:05d}.tar"
        items = [
            {"key": f"{n}-{k}", "data": encode(picture(900 + n * 10 + k, (512, 384)), "JPEG")}
            for k in range(8)
        ]
        items.append({"key": f"{n}-copy", "data": works[n % 3][1]})
        write_shard(shard, items)
        files.append((str(shard), shard.name))
    rows = [{} for _ in range(4000)]
    rows[3999] = {"sha256": hashlib.sha256(works[0][1]).hexdigest()}
    manifest = tmp_path / "m.parquet"
    pq.write_table(commonpool_table(rows), manifest, row_group_size=1000)
    files.append((str(manifest), manifest.name))
    audit = services.audit_create(name="shared", files=files)

    celery_workers.send(audit_start, audit.pk)
    _wait(
        lambda: Audit.objects.get(pk=audit.pk).status == "done",
        what="the chord's callback",
        logs=celery_workers.logs,
    )

    parts = AuditPart.objects.filter(audit=audit)
    assert parts.count() == 7 and set(parts.values_list("status", flat=True)) == {
        "done"
    }  # 6 shards + 1 manifest
    nodes = {w.rsplit(":", 1)[0] for w in parts.values_list("worker", flat=True)}
    assert nodes == {first, second}, nodes  # both workers took parts
    assert AuditMatch.objects.filter(audit=audit).count() == 7  # one copy per shard + the manifest row


def test_a_worker_killed_mid_part_has_the_part_rerun_without_duplicates(works, celery_workers, tmp_path):
    celery_workers("w1")
    unrelated = [encode(picture(1200 + k, (512, 384)), "JPEG") for k in range(30)]
    items = [{"key": f"u{k}", "data": unrelated[k % 30]} for k in range(1500)]
    items[10:10] = [{"key": f"c{i}", "data": data} for i, (_, data) in enumerate(works)]
    shard = tmp_path / "00000.tar"
    write_shard(shard, items)
    audit = services.audit_create(name="killed", files=[(str(shard), shard.name)])

    celery_workers.send(audit_start, audit.pk)
    part = _wait(
        lambda: AuditPart.objects.filter(audit=audit, status="running").exclude(worker="").first(),
        what="the part to start",
        logs=celery_workers.logs,
    )
    pid = int(part.worker.rsplit(":", 1)[1])
    os.kill(pid, signal.SIGKILL)  # the pool process dies in the middle of the shard

    _wait(
        lambda: Audit.objects.get(pk=audit.pk).status == "done", what="the re-run", logs=celery_workers.logs
    )
    part.refresh_from_db()
    assert part.status == "done" and part.attempts == 2 and int(part.worker.rsplit(":", 1)[1]) != pid
    matches = AuditMatch.objects.filter(audit=audit)
    assert matches.count() == 3 and set(matches.values_list("work_id", flat=True)) == {w.pk for w, _ in works}
