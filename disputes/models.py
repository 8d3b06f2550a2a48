"""Disputes: someone challenges a registration or a use of a work; moderators decide.

A dispute has two parties: the claimant (who filed it, or for a registration held by the
near-duplicate check, the creator of the earlier work it matched) and the respondent (the
disputed work's owner). Both see it, add evidence and reply; every step is a `DisputeEvent`,
append-only, shown to both.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from core.fields import WeiField
from works.models import get_private_storage


def evidence_path(instance, filename):
    import secrets

    return f"disputes/{instance.dispute_id}/{secrets.token_hex(12)}"


class Dispute(models.Model):
    class Kind(models.TextChoices):
        REGISTRATION = "registration", "improper registration"
        USE = "use", "improper use"
        PAYMENT = "payment", "improper payment"
        CONTENT = "content", "content standards"

    class Status(models.TextChoices):
        OPEN = "open", "open"
        UPHELD = "upheld", "upheld"
        REJECTED = "rejected", "rejected"

    class Source(models.TextChoices):
        FILED = "filed", "filed by the claimant"
        HOLD = "hold", "held by the near-duplicate check"

    work = models.ForeignKey("works.Work", on_delete=models.PROTECT, related_name="disputes")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.FILED)
    claimant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="disputes_filed"
    )
    respondent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="disputes_answered"
    )
    respondent_org = models.ForeignKey(
        "orgs.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="the organisation answering an improper-use or payment dispute",
    )
    statement = models.TextField(max_length=5000)
    rightful_work = models.ForeignKey(
        "works.Work",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="the claimant's own registration of the work, when they have one",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    reply_by = models.DateTimeField(
        null=True,
        blank=True,
        help_text="until then a moderator decides against the respondent only if they answered, "
        "or with a reason why it cannot wait",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_reason = models.TextField(blank=True, max_length=5000)
    revoked = models.BooleanField(default=False, help_text="the upheld decision revoked the registration")
    chain_pause = models.ForeignKey(
        "chain.ChainTransaction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="LicenseMarket.setWorkPaused(work, true): sales stop on chain too",
    )
    chain_resume = models.ForeignKey(
        "chain.ChainTransaction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="setWorkPaused(work, false) once the last registration dispute was decided",
    )

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["status", "kind", "created_at"], name="dispute_queue")]

    def __str__(self):
        return f"#{self.pk} {self.get_kind_display()} of “{self.work}”"

    def get_absolute_url(self):
        return reverse("disputes:detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    def reply_window_open(self, now=None) -> bool:
        return bool(self.is_open and self.reply_by and (now or timezone.now()) < self.reply_by)

    def is_party(self, user) -> bool:
        return bool(user and user.is_authenticated and user.pk in (self.claimant_id, self.respondent_id))


class Evidence(models.Model):
    class Kind(models.TextChoices):
        FILE = "file", "image file"
        DOCUMENT = "document", "document"
        URL = "url", "web address"
        MATCH = "match", "near-duplicate match"

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="evidence")
    party = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    file = models.FileField(upload_to=evidence_path, storage=get_private_storage, max_length=255, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    mime = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    pdq = models.CharField(max_length=64, blank=True)
    pdq_distance = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="to the disputed work's PDQ (0–256; ≤ 31 is the same picture)"
    )
    same_file = models.BooleanField(default=False, help_text="byte-identical to the disputed work")
    own_work = models.ForeignKey(
        "works.Work",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="the party's own registration of this file",
    )
    url = models.URLField(max_length=2000, blank=True)
    url_date = models.DateField(null=True, blank=True, help_text="when the page was published")
    note = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = "evidence"

    def __str__(self):
        return f"{self.get_kind_display()} on dispute {self.dispute_id}"

    @property
    def is_image(self) -> bool:
        return self.kind == self.Kind.FILE and bool(self.file)


class DisputeEvent(models.Model):
    """What happened on a dispute, by whom, when: the log both parties and moderators read."""

    class Action(models.TextChoices):
        FILED = "filed", "filed"
        HELD = "held", "held by the near-duplicate check"
        EVIDENCE = "evidence", "added evidence"
        REPLY = "reply", "replied"
        ESCROW = "escrow", "escrow"
        UPHELD = "upheld", "upheld"
        REJECTED = "rejected", "rejected"
        REVOKED = "revoked", "registration revoked"
        ANCHORED = "anchored", "revocation anchored"

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    text = models.TextField(blank=True, max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.get_action_display()} on {self.dispute_id}"


class EscrowRelease(models.Model):
    """An escrowed settlement leaf released by the operator key to whoever the decision names:
    the original payee (dispute rejected), the rightful creator (registration revoked, they
    have one), or the buyer (revoked, nobody to pay)."""

    class Status(models.TextChoices):
        SENT = "sent", "sent"
        DONE = "done", "released on chain"
        FAILED = "failed", "failed"

    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="releases")
    line = models.OneToOneField("royalties.SettlementLine", on_delete=models.PROTECT, related_name="release")
    to = models.CharField(max_length=42)
    amount = WeiField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.SENT)
    transaction = models.ForeignKey(
        "chain.ChainTransaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"release of line {self.line_id} to {self.to}"
