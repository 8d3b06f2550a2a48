import uuid
from functools import lru_cache

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.urls import reverse
from django.utils.functional import LazyObject

from core.chain.accounts import EOA, KINDS


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


def _ext(filename, default=".jpg"):
    ext = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else default
    return ext if ext in (".jpg", ".webp") else default


def preview_path(instance, filename):
    return _random_name("previews", _ext(filename))


def thumbnail_path(instance, filename):
    return _random_name("thumbnails", _ext(filename))


# The one visibility rule. A work is public once its creator has signed its registration and
# no moderator holds or rejected it; before that it exists for its owner only, and held or
# rejected works for their owner and moderators. Every page, JSON document, media file, search,
# rights signal and the fingerprint index goes through `WorkQuerySet.public()` / `visible_to()`.
PUBLIC_STATUSES = ("pending", "sent", "mined", "confirmed")
MODERATED_STATUSES = ("held", "rejected")
# A revoked registration is not public (no catalogue, sales, index or audits) but its page,
# provenance.json and the verify page stay readable by anyone: they say it was revoked.
REVOKED = "revoked"
MODERATE_PERMISSION = "works.moderate"


def is_moderator(user) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm(MODERATE_PERMISSION)
    )


class WorkQuerySet(models.QuerySet):
    def public(self):
        return self.filter(registration__status__in=PUBLIC_STATUSES)

    def visible_to(self, user):
        """What `user` may see: public and revoked works, their own works, and for moderators the
        works held or rejected for review (never another person's unsigned draft)."""
        if user is None or not user.is_authenticated:
            return self.readable()
        rule = models.Q(registration__status__in=(*PUBLIC_STATUSES, REVOKED)) | models.Q(owner=user)
        if is_moderator(user):
            rule |= models.Q(registration__status__in=MODERATED_STATUSES)
        return self.filter(rule)

    def for_owner(self, user):
        return self.filter(owner=user)

    def readable(self):
        """Public works and revoked ones (whose pages say they were revoked)."""
        return self.filter(registration__status__in=(*PUBLIC_STATUSES, REVOKED))


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
    pdq_crop = models.CharField(
        max_length=64,
        blank=True,
        help_text="PDQ of the centre with 4 % cut from each side (finds cropped copies)",
    )
    pdq_windows = models.TextField(
        blank=True,
        default="",
        db_default="",  # rows written by code that predates the field (a migration test's) stay valid
        help_text="PDQ of more windows of the picture (works.matching.WORK_WINDOWS), comma-separated; "
        "empty for a window without enough detail",
    )
    year = models.PositiveSmallIntegerField(null=True, blank=True, help_text="the year the work was made")
    version_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="versions"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = WorkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("moderate", "Can moderate works: holds, disputes and their decisions")]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("works:detail", args=[self.pk])

    @property
    def is_public(self) -> bool:
        registration = getattr(self, "registration", None)
        return registration is not None and registration.status in PUBLIC_STATUSES

    @property
    def is_revoked(self) -> bool:
        registration = getattr(self, "registration", None)
        return registration is not None and registration.status == REVOKED

    def is_visible_to(self, user) -> bool:
        if self.is_public or self.is_revoked:
            return True
        if user is None or not user.is_authenticated:
            return False
        if self.owner_id == user.pk:
            return True
        return self.registration.status in MODERATED_STATUSES and is_moderator(user)

    @property
    def creator_name(self) -> str:
        """The owner's display name ('' when they have none); needs owner__profile loaded."""
        profile = getattr(self.owner, "profile", None) if self.owner_id else None
        return profile.display_name if profile else ""


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


class Portfolio(models.Model):
    """Works uploaded together and registered with one signature: the creator's wallet signs the
    Merkle root of the works' individual `Registration` digests (works/eip712.py `Portfolio`);
    each registration keeps its own typed data and a proof that its digest is under the root."""

    MAX_WORKS = 1000

    class Status(models.TextChoices):
        OPEN = "open", "adding works"
        SEALED = "sealed", "awaiting your signature"
        SIGNED = "signed", "signed"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="portfolios")
    creator_address = models.CharField(max_length=42)
    title = models.CharField(max_length=200, blank=True)
    preset = models.CharField(max_length=40, blank=True, help_text="licence terms offered for every work")
    metadata = models.JSONField(
        default=dict, blank=True, help_text="from the uploaded CSV: file name -> title, year, description"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    root = models.CharField(max_length=66, blank=True)
    count = models.PositiveIntegerField(default=0)
    typed_data = models.JSONField(null=True, blank=True, help_text="the EIP-712 Portfolio as signed")
    signature = models.TextField(blank=True)
    signer_kind = models.CharField(max_length=8, choices=list(KINDS.items()), default=EOA)
    signature_block = models.BigIntegerField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    registered_at = models.DateTimeField(
        null=True, blank=True, help_text="when the last of its works was registered with the signature"
    )

    def __str__(self):
        return f"portfolio {self.pk} ({self.count} works, {self.get_status_display()})"

    def get_absolute_url(self):
        return reverse("works:portfolio", args=[self.pk])


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
        REVOKED = "revoked", "revoked by a moderator"

    work = models.OneToOneField(Work, on_delete=models.CASCADE, related_name="registration")
    status = models.CharField(
        max_length=24, choices=Status.choices, default=Status.AWAITING_SIGNATURE, db_index=True
    )
    timestamp = models.BigIntegerField(help_text="unix seconds, part of the signed message")
    terms_hash = models.CharField(max_length=66, default="0x" + "00" * 32)
    typed_data = models.JSONField(null=True, blank=True, help_text="the EIP-712 payload as signed")
    digest = models.CharField(max_length=66, blank=True, db_index=True)
    # 65 bytes from a key; a smart-contract account's (ERC-1271, ERC-6492-wrapped) is longer
    signature = models.TextField(blank=True)
    signer_kind = models.CharField(
        max_length=8,
        choices=list(KINDS.items()),
        default=EOA,
        help_text="what kind of account signed; a contract account's signature holds at signature_block",
    )
    signature_block = models.BigIntegerField(
        null=True, blank=True, help_text="the block the chain confirmed a contract account's signature at"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    hold_reason = models.TextField(blank=True)
    hold_evidence = models.JSONField(default=list, blank=True)
    batch = models.ForeignKey(
        AnchorBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="registrations"
    )
    leaf = models.CharField(max_length=66, blank=True)
    leaf_value = models.JSONField(null=True, blank=True)
    proof = models.JSONField(default=list, blank=True)
    portfolio = models.ForeignKey(
        Portfolio, null=True, blank=True, on_delete=models.PROTECT, related_name="registrations"
    )
    portfolio_proof = models.JSONField(
        default=list,
        blank=True,
        help_text="Merkle proof of this registration's digest under the portfolio root",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="pending") | ~models.Q(signature=""),
                name="pending_registrations_are_signed",
            )
        ]
        # covers "is this work public" in joins from works (manifest checks, the catalogue)
        indexes = [models.Index(fields=["work", "status"], name="registration_work_status")]

    def __str__(self):
        return f"registration of {self.work_id} ({self.status})"

    @property
    def is_anchored(self):
        return self.status == self.Status.CONFIRMED


class FingerprintChange(models.Model):
    """An append-only log of works entering or leaving the public fingerprint index.

    Every process (web server, each worker) keeps its own faiss index and replays this log from
    the last row it applied, so a work signed, released, rejected or revoked in one process is
    found (or no longer found) by every other one.
    """

    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="+")
    pdq = models.CharField(max_length=64)
    pdq_crop = models.CharField(max_length=64, blank=True)
    pdq_windows = models.TextField(blank=True, default="", db_default="")
    added = models.BooleanField(help_text="True: the work became public; False: it left")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{'+' if self.added else '-'}{self.work_id}"


class WorkDigest(models.Model):
    """The sha256 of bytes the portal holds or served for a work: its original, its public
    preview and thumbnail, and each licensed download (C2PA and XMP make every one different).
    A dataset item with one of these hashes is this work, exactly."""

    class Kind(models.TextChoices):
        ORIGINAL = "original"
        PREVIEW = "preview"
        THUMBNAIL = "thumbnail"
        DOWNLOAD = "download", "licensed download"

    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="digests")
    sha256 = models.CharField(max_length=64, db_index=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["work", "sha256"], name="one_row_per_work_digest")]

    def __str__(self):
        return f"{self.kind} {self.sha256[:12]}…"


class DerivationLink(models.Model):
    """`child` derives from `parent` under `licence` (the child's creator's licence to the parent,
    whose terms allow derivatives). Every sale of the child pays the parent `share_bps` of the
    child's revenue, stacked up the tree (royalties.splits). Signed into the child's registration
    (`parents`); waits for the parent owner's approval when the parent's terms ask for it."""

    class Status(models.TextChoices):
        APPROVED = "approved", "approved"
        PENDING = "pending", "waiting for the parent's creator to approve"
        REFUSED = "refused", "refused by the parent's creator"

    child = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="parent_links")
    parent = models.ForeignKey(Work, on_delete=models.PROTECT, related_name="child_links")
    licence = models.ForeignKey("licensing.Licence", on_delete=models.PROTECT, related_name="derivations")
    share_bps = models.PositiveIntegerField(help_text="the parent's derivative revenue share, basis points")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.APPROVED)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["child", "parent"], name="one_link_per_parent"),
            models.CheckConstraint(condition=~models.Q(child=models.F("parent")), name="no_self_derivation"),
            models.CheckConstraint(
                condition=models.Q(share_bps__lte=10_000), name="share_at_most_100_percent"
            ),
        ]

    def __str__(self):
        return f"{self.child_id} derives from {self.parent_id} ({self.status})"


class WorkPublication(models.Model):
    """A public location where the creator has published the work (their site, a portfolio,
    a social post): a dataset row with this URL is this work."""

    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="publications")
    url = models.URLField(max_length=2000)
    key = models.CharField(max_length=500, db_index=True, help_text="the normalised URL (works.publications)")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["work", "key"], name="one_row_per_publication")]

    def __str__(self):
        return self.url


class Revocation(models.Model):
    """A moderator revoked a work's registration (an upheld dispute). The platform signs an
    EIP-712 `Revocation` of the registration's digest; its leaf joins the next anchor batch,
    so anyone can check on chain that, and when, the registration was revoked."""

    class Status(models.TextChoices):
        PENDING = "pending", "waiting for the next batch"
        SENT = "sent", "sent"
        MINED = "mined", "mined"
        CONFIRMED = "confirmed", "anchored"

    work = models.OneToOneField(Work, on_delete=models.PROTECT, related_name="revocation")
    reason = models.TextField(max_length=5000)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    rightful_work = models.ForeignKey(
        Work,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="the rightful creator's own registration, when they have one",
    )
    reference = models.CharField(max_length=40, blank=True, help_text="the dispute that decided it")
    timestamp = models.BigIntegerField(help_text="unix seconds, part of the signed message")
    typed_data = models.JSONField()
    digest = models.CharField(max_length=66)
    signature = models.CharField(max_length=132)
    signer = models.CharField(max_length=42)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True)
    batch = models.ForeignKey(
        AnchorBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="revocations"
    )
    leaf = models.CharField(max_length=66, blank=True)
    leaf_value = models.JSONField(null=True, blank=True)
    proof = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"revocation of {self.work_id} ({self.status})"


_URL_SENTINEL = "987654321987"


def work_url(pk: int) -> str:
    """A work page's URL without a reverse() per row (lists show dozens)."""
    return _work_url_pattern().replace(_URL_SENTINEL, str(pk))


@lru_cache(maxsize=1)
def _work_url_pattern() -> str:
    # reverse() costs ~0.1 ms; a page lists dozens of works, so reverse once and fill the id in.
    return reverse("works:detail", args=[int(_URL_SENTINEL)])
