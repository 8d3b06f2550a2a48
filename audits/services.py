"""Writes for dataset audits: create, plan (registry snapshot + parts), run a part (idempotent),
finish, cancel."""

import hashlib
import logging
import os
import shutil
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from audits import parts as engine
from audits.models import Audit, AuditInput, AuditMatch, AuditPart
from audits.registry import Snapshot, snapshot_write
from core.errors import PortalError
from core.leases import holder_is_dead, holder_name
from core.notifications import notify
from works.matching import WorkFeatures
from works.models import Work, private_storage

logger = logging.getLogger(__name__)

ERR_SAMPLE = "The sample must be a fraction above 0 and at most 1 (e.g. 0.001 for 0.1 %)."
ERR_NO_FILES = "Give at least one manifest (.parquet, .csv) or shard (.tar)."
ERR_KIND = "{name}: not a .parquet or .csv manifest nor a .tar shard."
ERR_NOT_CANCELLABLE = "This audit has already finished."
ERR_NAME = "Name the audit (e.g. the dataset's name)."
CHECK_EVERY_SECONDS = 1.0

Status = Audit.Status
PartStatus = AuditPart.Status
TERMINAL = (PartStatus.DONE, PartStatus.FAILED, PartStatus.CANCELLED)


class AuditError(PortalError):
    code = "invalid_audit"


def input_kind(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith(".parquet"):
        return AuditInput.Kind.PARQUET
    if lower.endswith(".csv"):
        return AuditInput.Kind.CSV
    if lower.endswith((".tar", ".tar.gz", ".tgz")):
        return AuditInput.Kind.SHARD
    return None


def audit_dir(audit: Audit) -> Path:
    return Path(settings.AUDIT_ROOT) / str(audit.token)


def audit_from_uploads(*, uploads, staging: Path, **create) -> Audit:
    """An audit of uploaded files (browser form or API): each upload is written under `staging`,
    the audit created (`audit_create`'s checks and arguments), then its inputs moved into the
    audit's own folder on the workers' shared storage. The caller queues `audit_start`."""
    for upload in uploads:
        if input_kind(upload.name or "") is None:
            raise AuditError(ERR_KIND.format(name=upload.name))
    files = []
    for upload in uploads:
        target = unique_path(staging, upload.name)
        with open(target, "wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        files.append((str(target), upload.name))
    audit = audit_create(files=files, **create)
    inputs = audit_dir(audit) / "inputs"
    for item in audit.inputs.all():
        moved = unique_path(inputs, item.name)
        shutil.move(item.path, moved)
        item.path = str(moved)
        item.save(update_fields=["path"])
    return audit


def unique_path(folder: Path, name: str) -> Path:
    """A new file in `folder` named after `name` (its last part, made safe; numbered if taken)."""
    folder.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(name).name)[:120] or "file"
    target, n = folder / safe, 1
    while target.exists():
        target = folder / f"{n}-{safe}"
        n += 1
    return target


def audit_create(
    *,
    name: str,
    files: list[tuple[str, str]],
    user=None,
    org=None,
    via: str = Audit.Via.BROWSER,
    sample: float = 1.0,
    reveal_auditor: bool = False,
    seed: int | None = None,
) -> Audit:
    """`files`: (path on the workers' shared storage, name as the auditor knows it)."""
    name = (name or "").strip()
    if not name:
        raise AuditError(ERR_NAME)
    if not (isinstance(sample, int | float) and 0 < sample <= 1):
        raise AuditError(ERR_SAMPLE)
    if not files:
        raise AuditError(ERR_NO_FILES)
    kinds = []
    for path, display in files:
        kind = input_kind(display) or input_kind(str(path))
        if kind is None:
            raise AuditError(ERR_KIND.format(name=display))
        kinds.append(kind)
    with transaction.atomic():
        audit = Audit.objects.create(
            name=name[:200],
            user=user,
            org=org,
            via=via,
            sample=float(sample),
            seed=seed if seed is not None else int.from_bytes(os.urandom(4), "big"),
            reveal_auditor=reveal_auditor,
        )
        AuditInput.objects.bulk_create(
            [
                AuditInput(
                    audit=audit,
                    kind=kind,
                    path=str(Path(path).resolve()),
                    name=display[:255],
                    size=Path(path).stat().st_size if Path(path).exists() else 0,
                )
                for (path, display), kind in zip(files, kinds, strict=True)
            ]
        )
    return audit


def audit_plan(*, audit: Audit) -> list[int]:
    """Snapshot the registry and split every input into parts; returns the part ids to run.
    An input that cannot be read becomes one failed part that says why."""
    snapshot = snapshot_write(audit_dir(audit) / "registry")
    parts = []
    for item in audit.inputs.all():
        path = Path(item.path)
        if item.kind == AuditInput.Kind.PARQUET:
            groups, rows, error = engine.parquet_plan(path)
            AuditInput.objects.filter(pk=item.pk).update(rows=rows, error=error)
            if error:
                parts.append(
                    AuditPart(audit=audit, input=item, index=0, status=PartStatus.FAILED, error=error)
                )
            parts += [
                AuditPart(audit=audit, input=item, index=g, row_start=start, rows_total=n)
                for g, start, n in groups
            ]
        elif not path.exists():
            error = engine.ERR_UNREADABLE.format(name=item.name, error="no such file")
            AuditInput.objects.filter(pk=item.pk).update(error=error)
            parts.append(AuditPart(audit=audit, input=item, index=0, status=PartStatus.FAILED, error=error))
        else:
            parts.append(AuditPart(audit=audit, input=item, index=0))
    with transaction.atomic():
        AuditPart.objects.bulk_create(parts, ignore_conflicts=True)
        Audit.objects.filter(pk=audit.pk, status=Status.QUEUED).update(
            status=Status.RUNNING, registry=snapshot.as_json(), started_at=timezone.now()
        )
    return list(audit.parts.filter(status=PartStatus.PENDING).values_list("pk", flat=True))


def part_run(*, part_id: int, features=None, worker: str = "") -> AuditPart | None:
    """Run one part. Idempotent: a finished part is left alone; a part that a crashed worker
    left running is run again from the start, and its matches replace the earlier ones in one
    transaction, so no match is ever doubled."""
    now = timezone.now()
    worker = (worker or holder_name())[:200]
    lease = timedelta(seconds=settings.AUDIT_PART_LEASE_SECONDS)
    holder = AuditPart.objects.filter(pk=part_id, status=PartStatus.RUNNING).values_list("worker", flat=True)
    dead = [w for w in holder if holder_is_dead(w)]  # its process on this machine is gone
    claimed = (  # a pending part, or a running one whose worker died or whose lease ran out
        AuditPart.objects.filter(pk=part_id)
        .filter(
            Q(status=PartStatus.PENDING)
            | Q(status=PartStatus.RUNNING, lease_until__lt=now)
            | Q(status=PartStatus.RUNNING, lease_until__isnull=True)
            | Q(status=PartStatus.RUNNING, worker__in=dead)
        )
        .exclude(audit__status__in=[Status.CANCELLED, Status.DONE, Status.FAILED])
        .update(status=PartStatus.RUNNING, worker=worker, started_at=now, lease_until=now + lease)
    )
    part = AuditPart.objects.select_related("audit", "input").filter(pk=part_id).first()
    if part is None:
        return None
    if not claimed:
        if part.status in (PartStatus.PENDING, PartStatus.RUNNING) and part.audit.status == Status.CANCELLED:
            AuditPart.objects.filter(pk=part.pk).update(
                status=PartStatus.CANCELLED, finished_at=timezone.now()
            )
        return part
    AuditPart.objects.filter(pk=part.pk).update(attempts=part.attempts + 1)
    audit, item = part.audit, part.input
    snapshot = Snapshot.from_json(audit.registry)
    last_check = [time.monotonic()]

    renewed = [time.monotonic()]

    def check():
        now = time.monotonic()
        if now - last_check[0] < CHECK_EVERY_SECONDS:
            return
        last_check[0] = now
        if Audit.objects.filter(pk=audit.pk, status=Status.CANCELLED).exists():
            raise engine.Cancelled
        if now - renewed[0] > lease.total_seconds() / 3:  # still alive: keep the part
            renewed[0] = now
            AuditPart.objects.filter(pk=part.pk, worker=worker).update(lease_until=timezone.now() + lease)

    common = {"name": item.name, "snapshot": snapshot, "sample": audit.sample, "seed": audit.seed}
    try:
        if item.kind == AuditInput.Kind.PARQUET:
            result = engine.parquet_part(
                path=Path(item.path), row_start=part.row_start, rows=part.rows_total, **common
            )
        elif item.kind == AuditInput.Kind.CSV:
            result = engine.csv_part(path=Path(item.path), check=check, **common)
        else:
            result = engine.shard_part(path=Path(item.path), check=check, features=features, **common)
    except engine.Cancelled:
        AuditPart.objects.filter(pk=part.pk).update(status=PartStatus.CANCELLED, finished_at=timezone.now())
        return part
    _store(part, result)
    part.refresh_from_db()
    return part


def _evidence_name(audit: Audit, part: AuditPart, source: str) -> str:
    digest = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()[:20]
    return f"audits/{audit.token}/evidence/{part.pk}/{digest}.jpg"


def _store(part: AuditPart, result: engine.PartResult) -> None:

    audit = part.audit
    rows = []
    for found in result.found.values():
        evidence = ""
        if found.evidence:
            evidence = _evidence_name(audit, part, found.source)
            if private_storage.exists(evidence):
                private_storage.delete(evidence)
            private_storage.save(evidence, ContentFile(found.evidence))
        rows.append(
            AuditMatch(
                audit=audit,
                part=part,
                work_id=found.work_id,
                kind=found.kind,
                distance=found.distance,
                inliers=found.inliers,
                source=found.source[:600],
                source_file=part.input.name,
                source_row=found.source_row,
                source_uid=found.source_uid,
                source_key=found.source_key,
                source_url=found.source_url[:4000],
                evidence=evidence,
            )
        )
    message = result.error
    if result.problems:
        skipped = f"{result.items_bad} item(s) skipped: " + "; ".join(result.problems)
        if result.items_bad > len(result.problems):
            skipped += "; …"
        message = f"{message} {skipped}".strip()
    with transaction.atomic():
        AuditMatch.objects.filter(part=part).delete()
        AuditMatch.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
        AuditPart.objects.filter(pk=part.pk).update(
            status=PartStatus.FAILED if result.error else PartStatus.DONE,
            rows_total=result.rows_total,
            rows_scanned=result.rows_scanned,
            images_hashed=result.images_hashed,
            items_bad=result.items_bad,
            error=message[:5000],
            finished_at=timezone.now(),
        )


def parts_queued(*, part_ids) -> None:
    """Remember when parts were (re)sent to the queue."""
    AuditPart.objects.filter(pk__in=list(part_ids)).update(queued_at=timezone.now())


def audits_stalled(*, now=None) -> tuple[list[int], list[int]]:
    """What a broker or a dead worker lost, to send again: (audit ids to start, part ids to run).

    1. An audit still queued well after it was created: its start message was lost.
    2. A running part whose lease ran out: its worker died (SIGKILL, OOM, a lost machine).
    3. Pending parts, when no part of any running audit has started, finished or been queued
       for AUDIT_STALLED_SECONDS: their messages were lost. (Parts merely waiting behind others
       in a busy queue have activity around them, so a long queue is not flooded with copies;
       each part is listed once.)
    Running them twice is harmless: a part is claimed before it runs and its matches replace
    any earlier run's."""
    now = now or timezone.now()
    stalled_before = now - timedelta(seconds=settings.AUDIT_STALLED_SECONDS)
    starts = list(
        Audit.objects.filter(status=Status.QUEUED, created_at__lt=stalled_before).values_list("pk", flat=True)
    )
    expired = [
        pk
        for pk, worker, until in AuditPart.objects.filter(
            status=PartStatus.RUNNING, audit__status=Status.RUNNING
        ).values_list("pk", "worker", "lease_until")
        if until is None or until < now or holder_is_dead(worker)
    ]
    # Pending parts whose messages were lost: only when no part of any running audit has moved
    # for AUDIT_STALLED_SECONDS. While the queue moves, pending parts are waiting their turn;
    # sending them again would only lengthen it (each copy is one more message to drain).
    running = AuditPart.objects.filter(audit__status=Status.RUNNING)
    lost = []
    if not running.filter(status=PartStatus.RUNNING, lease_until__gte=now).exists():
        activity = running.aggregate(
            started=Max("started_at"), finished=Max("finished_at"), queued=Max("queued_at")
        )
        latest = max([t for t in activity.values() if t] or [stalled_before - timedelta(seconds=1)])
        if latest < stalled_before:
            lost = list(running.filter(status=PartStatus.PENDING).order_by("pk").values_list("pk", flat=True))
    return starts, expired + lost


def audit_finish(*, audit_id: int) -> Audit | None:
    """Every part has ended: the audit is done (or cancelled) and the creators are told."""
    audit = Audit.objects.filter(pk=audit_id).first()
    if audit is None:
        return None
    if audit.parts.exclude(status__in=TERMINAL).exists() and audit.status != Status.CANCELLED:
        return audit
    Audit.objects.filter(pk=audit.pk, status__in=[Status.QUEUED, Status.RUNNING]).update(
        status=Status.DONE, finished_at=timezone.now()
    )
    audit.refresh_from_db()
    if audit.status == Status.DONE:
        creators_notify(audit=audit)
    return audit


def audit_fail(*, audit: Audit, error: str) -> None:
    Audit.objects.filter(pk=audit.pk, status__in=[Status.QUEUED, Status.RUNNING]).update(
        status=Status.FAILED, error=error[:2000], finished_at=timezone.now()
    )


def audit_cancel(*, audit: Audit, user=None) -> Audit:
    if not Audit.objects.filter(pk=audit.pk, status__in=[Status.QUEUED, Status.RUNNING]).update(
        status=Status.CANCELLED, finished_at=timezone.now()
    ):
        raise AuditError(ERR_NOT_CANCELLABLE, status=409, code="audit_finished")
    AuditPart.objects.filter(audit=audit, status=PartStatus.PENDING).update(
        status=PartStatus.CANCELLED, finished_at=timezone.now()
    )
    audit.refresh_from_db()
    return audit


def creators_notify(*, audit: Audit) -> int:
    """Tell each creator whose public work the audit found, once per audit."""
    from django.contrib.auth import get_user_model

    if not Audit.objects.filter(pk=audit.pk, notified_at__isnull=True).update(notified_at=timezone.now()):
        return 0
    counts: dict[int, int] = {}
    for owner_id, _work in (
        Work.objects.public().filter(audit_matches__audit=audit).values_list("owner_id", "pk").distinct()
    ):
        counts[owner_id] = counts.get(owner_id, 0) + 1
    auditor = audit.org.name if audit.org else (audit.user.username if audit.user else "")
    who = f" by {auditor}" if audit.reveal_auditor and auditor else ""
    for user in get_user_model().objects.filter(pk__in=counts):
        n = counts[user.pk]
        notify(
            user=user,
            kind="found_in_dataset",
            text=f"{n} of your works {'was' if n == 1 else 'were'} found in the dataset “{audit.name}”{who}.",
            url="/dashboard/#found",
        )
    return len(counts)


def audit_run_inline(*, audit: Audit, progress=None) -> Audit:
    """Plan and run every part in this process (the command line), in order."""
    part_ids = audit_plan(audit=audit)
    features = WorkFeatures()
    for part_id in part_ids:
        part = part_run(part_id=part_id, features=features)
        if progress is not None and part is not None:
            progress(part)
    return audit_finish(audit_id=audit.pk)
