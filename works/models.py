import uuid

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.urls import reverse
from django.utils.functional import LazyObject


class PrivateStorage(LazyObject):
    """Originals: outside MEDIA_ROOT, never served by a URL, only through permission checks."""

    def _setup(self):
        self._wrapped = FileSystemStorage(location=settings.PRIVATE_MEDIA_ROOT, base_url=None)


private_storage = PrivateStorage()


def get_private_storage():
    # A callable, so migrations record a reference rather than a machine-specific path.
    return private_storage


def _random_name(folder, ext):
    return f"{folder}/{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}{ext}"


def original_path(instance, filename):
    return _random_name("originals", "." + filename.rsplit(".", 1)[-1].lower())


def preview_path(instance, filename):
    return _random_name("previews", ".jpg")


def thumbnail_path(instance, filename):
    return _random_name("thumbnails", ".jpg")


class WorkQuerySet(models.QuerySet):
    def public(self):
        return self.exclude(registration__status=Registration.Status.AWAITING_SIGNATURE)

    def for_owner(self, user):
        return self.filter(owner=user)


class Work(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="works")
    creator_address = models.CharField(max_length=42, db_index=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=5000)
    tags = models.JSONField(default=list, blank=True)
    original = models.FileField(upload_to=original_path, storage=get_private_storage, max_length=255)
    original_name = models.CharField(max_length=255, help_text="the uploader's file name, for display only")
    mime = models.CharField(max_length=32)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveBigIntegerField()
    # Indexed: public media requests look the work up by file name to send its AI headers.
    preview = models.ImageField(upload_to=preview_path, max_length=255, db_index=True)
    thumbnail = models.ImageField(upload_to=thumbnail_path, max_length=255, db_index=True)
    sha256 = models.CharField(max_length=64, db_index=True)
    pdq = models.CharField(max_length=64)
    pdq_quality = models.PositiveSmallIntegerField()
    version_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="versions"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = WorkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("works:detail", args=[self.pk])


class AnchorBatch(models.Model):
    class Status(models.TextChoices):
        SEALED = "sealed", "sealed"
        SENT = "sent", "sent"
        MINED = "mined", "mined"
        CONFIRMED = "confirmed", "confirmed"
        FAILED = "failed", "failed"

    root = models.CharField(max_length=66, unique=True)
    size = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SEALED, db_index=True)
    chain_id = models.BigIntegerField()
    contract_address = models.CharField(max_length=42)
    tree = models.JSONField(help_text="StandardMerkleTree dump (standard-v1)")
    transaction = models.ForeignKey(
        "chain.ChainTransaction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="anchor_batches",
    )
    block_number = models.BigIntegerField(null=True, blank=True)
    block_timestamp = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "anchor batches"

    def __str__(self):
        return f"batch {self.pk} ({self.size} works, {self.status})"


class Registration(models.Model):
    """The creator's signed EIP-712 claim on a work, and its way onto the chain."""

    class Status(models.TextChoices):
        AWAITING_SIGNATURE = "awaiting_signature", "awaiting your signature"
        HELD = "held", "held for review"
        PENDING = "pending", "pending"
        SENT = "sent", "sent"
        MINED = "mined", "mined"
        CONFIRMED = "confirmed", "anchored"
        FAILED = "failed", "failed"
        REJECTED = "rejected", "rejected by a moderator"

    work = models.OneToOneField(Work, on_delete=models.CASCADE, related_name="registration")
    status = models.CharField(
        max_length=24, choices=Status.choices, default=Status.AWAITING_SIGNATURE, db_index=True
    )
    timestamp = models.BigIntegerField(help_text="unix seconds, part of the signed message")
    terms_hash = models.CharField(max_length=66, default="0x" + "00" * 32)
    typed_data = models.JSONField(null=True, blank=True, help_text="the EIP-712 payload as signed")
    digest = models.CharField(max_length=66, blank=True, db_index=True)
    signature = models.CharField(max_length=132, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    hold_reason = models.TextField(blank=True)
    hold_evidence = models.JSONField(default=list, blank=True)
    batch = models.ForeignKey(
        AnchorBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="registrations"
    )
    leaf = models.CharField(max_length=66, blank=True)
    leaf_value = models.JSONField(null=True, blank=True)
    proof = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="pending") | ~models.Q(signature=""),
                name="pending_registrations_are_signed",
            )
        ]

    def __str__(self):
        return f"registration of {self.work_id} ({self.status})"

    @property
    def is_anchored(self):
        return self.status == self.Status.CONFIRMED
