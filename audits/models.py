"""Dataset audits: a training set (manifests, shards) checked against the registry.

An audit is split into parts (a parquet row group, a CSV file, a WebDataset shard); each part is
processed by one idempotent task that replaces its own matches and progress in one transaction,
so a part re-run after a crash never doubles a match.
"""

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse


class Audit(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        CANCELLED = "cancelled", "cancelled"
        FAILED = "failed", "failed"

    class Via(models.TextChoices):
        BROWSER = "browser"
        API = "api"
        COMMAND = "command", "command line"

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="audits"
    )
    org = models.ForeignKey(
        "orgs.Organisation", null=True, blank=True, on_delete=models.CASCADE, related_name="audits"
    )
    via = models.CharField(max_length=16, choices=Via.choices, default=Via.BROWSER)
    reveal_auditor = models.BooleanField(
        default=False, help_text="creators whose works are found may see who ran the audit"
    )
    sample = models.FloatField(default=1.0, help_text="fraction of rows and images audited (1 = all)")
    seed = models.BigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    error = models.TextField(blank=True)
    registry = models.JSONField(
        default=dict, blank=True, help_text="the registry snapshot the parts match against"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("audits:detail", args=[self.token])

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.CANCELLED, self.Status.FAILED)


class AuditInput(models.Model):
    class Kind(models.TextChoices):
        PARQUET = "parquet", "CommonPool parquet manifest"
        CSV = "csv", "CSV manifest"
        SHARD = "shard", "img2dataset shard (.tar)"

    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="inputs")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    path = models.CharField(max_length=1000, help_text="absolute path on the audit workers' shared storage")
    name = models.CharField(max_length=255, help_text="as the auditor named it")
    size = models.BigIntegerField(default=0)
    rows = models.BigIntegerField(null=True, blank=True, help_text="rows in the whole file, when known")
    error = models.TextField(blank=True)

    def __str__(self):
        return self.name


class AuditPart(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"
        CANCELLED = "cancelled"

    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="parts")
    input = models.ForeignKey(AuditInput, on_delete=models.CASCADE, related_name="parts")
    index = models.PositiveIntegerField(help_text="row group number in the file (0 for CSV and shards)")
    row_start = models.BigIntegerField(default=0, help_text="the file row number of the part's first row")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    rows_scanned = models.BigIntegerField(default=0)
    rows_total = models.BigIntegerField(default=0)
    images_hashed = models.BigIntegerField(default=0)
    items_bad = models.BigIntegerField(default=0)
    error = models.TextField(blank=True, help_text="why the part failed, or what was skipped in it")
    attempts = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True, help_text="host:pid of the process running it")
    lease_until = models.DateTimeField(
        null=True, blank=True, help_text="the worker holds the part until then (renewed as it works)"
    )
    queued_at = models.DateTimeField(null=True, blank=True, help_text="last sent to the queue")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["input", "index"], name="one_part_per_input_index")]

    def __str__(self):
        return f"{self.input.name} #{self.index}"


class AuditMatch(models.Model):
    class Kind(models.TextChoices):
        SHA256 = "sha256", "exact bytes (sha256)"
        URL = "url", "URL"
        PDQ = "pdq", "near-duplicate (PDQ)"
        SIMILAR = "similar", "similar, not a copy"

    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="matches")
    part = models.ForeignKey(AuditPart, on_delete=models.CASCADE, related_name="matches")
    work = models.ForeignKey("works.Work", on_delete=models.CASCADE, related_name="audit_matches")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    distance = models.PositiveSmallIntegerField(null=True, blank=True)
    inliers = models.PositiveIntegerField(
        null=True, blank=True, help_text="keypoints that agree, when a near-duplicate needed the second check"
    )
    source = models.CharField(max_length=600, help_text="file#row or file:key: one match per (item, work)")
    source_file = models.CharField(max_length=255)
    source_row = models.BigIntegerField(null=True, blank=True)
    source_uid = models.CharField(max_length=200, blank=True)
    source_key = models.CharField(max_length=200, blank=True)
    source_url = models.TextField(blank=True)
    evidence = models.CharField(max_length=300, blank=True, help_text="the dataset image, as found (private)")

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["audit", "source", "work"], name="one_match_per_item_and_work")
        ]
        indexes = [models.Index(fields=["work", "audit"])]

    def __str__(self):
        return f"{self.source} = work {self.work_id} ({self.kind})"
