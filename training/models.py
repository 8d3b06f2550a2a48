"""What AI companies do (training licences, manifest checks, training runs and their invoices):
the training app's rows. The tables keep the names they had under licensing."""

import json

import zstandard
from django.db import models
from django.utils.functional import cached_property

from core.fields import WeiField
from licensing.models import LicenceTerms
from licensing.terms import AI_SCOPE_CHOICES, AI_SCOPE_MODEL
from training.model_scope import grants_text, licence_covers


class Purpose(models.TextChoices):
    TRAINING = "training", "AI training"
    GENERATIVE = "generative_training", "generative AI training"


class OrgWork(models.Model):
    """A work an organisation checked or licensed: its terms changes reach the org's feed."""

    org = models.ForeignKey("orgs.Organisation", on_delete=models.CASCADE, related_name="+")
    work = models.ForeignKey("works.Work", on_delete=models.CASCADE, related_name="+")

    class Meta:
        db_table = "licensing_orgwork"
        constraints = [models.UniqueConstraint(fields=["org", "work"], name="one_row_per_org_work")]

    def __str__(self):
        return f"{self.org_id} watches {self.work_id}"


class ManifestCheck(models.Model):
    org = models.ForeignKey("orgs.Organisation", on_delete=models.CASCADE, related_name="manifest_checks")
    key = models.ForeignKey("orgs.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    items = models.PositiveIntegerField()
    matched = models.PositiveIntegerField()
    results_zstd = models.BinaryField(
        help_text="the results as sent, one entry per item: their JSON text, Zstandard-compressed "
        "(a 10,000-item answer is 3.5 MB of JSON, 0.2 MB stored), served as is"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "licensing_manifestcheck"
        ordering = ["-created_at"]

    def __str__(self):
        return f"manifest check {self.pk} ({self.matched}/{self.items})"

    @staticmethod
    def pack(results_json: bytes) -> bytes:
        """What `results_zstd` stores of the results' JSON text (level 1: 2 ms for 3.5 MB, and
        stored in a tenth of the time the text took; zlib took 10 ms for a larger result)."""
        return zstandard.ZstdCompressor(level=1).compress(results_json)

    @cached_property
    def results_json(self) -> bytes:
        """The results' JSON text (UTF-8), as sent (set by whoever packed it, to spare a round trip)."""
        return zstandard.ZstdDecompressor().decompress(self.results_zstd)

    @cached_property
    def results(self) -> list[dict]:
        return json.loads(self.results_json)

    def matched_work_ids(self) -> list[int]:
        return list(dict.fromkeys(r["match"]["work_id"] for r in self.results if r.get("match")))


class TrainingLicence(models.Model):
    """One work licensed to one organisation for one purpose, paid through a settlement."""

    class Status(models.TextChoices):
        VALID = "valid", "valid"
        VOID = "void", "void"

    org = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="training_licences")
    work = models.ForeignKey("works.Work", on_delete=models.PROTECT, related_name="training_licences")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    terms = models.ForeignKey(LicenceTerms, on_delete=models.PROTECT, related_name="+")
    model_name = models.CharField(max_length=200, blank=True)
    model_scope = models.CharField(
        max_length=16,
        choices=AI_SCOPE_CHOICES,
        default=AI_SCOPE_MODEL,
        help_text="which models it covers, from the terms it was sold under (training/model_scope.py)",
    )
    price_wei = WeiField()
    settlement = models.ForeignKey(
        "royalties.Settlement", on_delete=models.PROTECT, related_name="training_licences"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.VALID)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "licensing_traininglicence"
        constraints = [
            models.UniqueConstraint(
                fields=["settlement", "work", "purpose"], name="one_licence_per_settled_line"
            )
        ]
        indexes = [models.Index(fields=["org", "work", "purpose"])]

    def __str__(self):
        return f"{self.get_purpose_display()} of work {self.work_id} for {self.org}"

    def covers(self, model_name: str | None) -> bool:
        return licence_covers(scope=self.model_scope, licensed_model=self.model_name, model_name=model_name)

    @property
    def grants(self) -> str:
        """What it grants, in words; needs `org` loaded."""
        return grants_text(scope=self.model_scope, licensed_model=self.model_name, org_name=self.org.name)


class TrainingRun(models.Model):
    org = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="training_runs")
    run_id = models.CharField(max_length=120)
    model_name = models.CharField(max_length=200)
    model_version = models.CharField(max_length=80, blank=True)
    purpose = models.CharField(max_length=20, choices=Purpose.choices, default=Purpose.TRAINING)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    reported_at = models.DateTimeField(auto_now_add=True)
    works_reported = models.PositiveIntegerField(default=0)
    unmatched = models.JSONField(default=list, help_text="identifiers that named no registered work")

    class Meta:
        db_table = "licensing_trainingrun"
        ordering = ["-reported_at"]
        constraints = [models.UniqueConstraint(fields=["org", "run_id"], name="one_report_per_run")]

    def __str__(self):
        return f"{self.org} run {self.run_id}"


class TrainingRunWork(models.Model):
    class Status(models.TextChoices):
        LICENSED = "licensed", "licensed"
        INVOICED = "invoiced", "unlicensed: invoiced"
        VIOLATION = "violation", "used although the terms prohibit it"
        FREE = "free", "free under the terms (attribution)"
        PAID = "paid", "invoiced and paid"

    run = models.ForeignKey(TrainingRun, on_delete=models.CASCADE, related_name="works")
    work = models.ForeignKey("works.Work", on_delete=models.PROTECT, related_name="training_uses")
    status = models.CharField(max_length=10, choices=Status.choices)
    licence = models.ForeignKey(
        TrainingLicence, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    price_wei = WeiField(default=0, help_text="what the invoice charges for this work, in its currency")
    invoice = models.ForeignKey(
        "Invoice",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lines",
        help_text="the invoice that charges for this work (one per currency of a run)",
    )
    terms = models.ForeignKey(
        LicenceTerms,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="the terms that priced an invoiced work when the run was reported",
    )
    samples = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        db_table = "licensing_trainingrunwork"
        constraints = [models.UniqueConstraint(fields=["run", "work"], name="one_row_per_run_work")]
        indexes = [models.Index(fields=["work", "run"])]

    def __str__(self):
        return f"{self.work_id} in {self.run_id}: {self.status}"


class Invoice(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "open"
        PAID = "paid", "paid"

    org = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="invoices")
    run = models.ForeignKey(TrainingRun, on_delete=models.PROTECT, related_name="invoices")
    currency = models.CharField(max_length=8, default="ETH", help_text="ETH or the stablecoin's symbol")
    total_wei = WeiField(help_text="in the smallest unit of `currency`")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    settlement = models.ForeignKey(
        "royalties.Settlement", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "licensing_invoice"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["run", "currency"], name="one_invoice_per_run_currency")
        ]

    def __str__(self):
        return f"invoice {self.pk} of {self.org} ({self.status})"
