from django.conf import settings
from django.db import models
from django.urls import reverse

from core.chain.market import AI_FETCH
from core.fields import WeiField
from licensing.terms import AI_CHOICES, Terms
from works.models import is_moderator, work_url


class LicenceTerms(models.Model):
    """Immutable terms, identified by the keccak hash of their canonical JSON."""

    terms_hash = models.CharField(max_length=66, unique=True)
    canonical_json = models.TextField()
    preset = models.CharField(max_length=40, blank=True)
    # Copies of the fields the catalogue filters on; the canonical JSON is the source of truth.
    commercial_use = models.BooleanField()
    derivatives_allowed = models.BooleanField()
    ai_training = models.CharField(max_length=16, choices=AI_CHOICES)
    genai_training = models.CharField(max_length=16, choices=AI_CHOICES)
    fee_wei = WeiField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "licence terms"
        verbose_name_plural = "licence terms"

    def __str__(self):
        return f"{self.preset or 'custom'} {self.terms_hash[:10]}"

    @property
    def terms(self) -> Terms:
        return Terms.from_canonical(self.canonical_json)


class OfferQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=Offer.Status.ACTIVE)


class Offer(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "active"
        WITHDRAWN = "withdrawn", "withdrawn"

    work = models.ForeignKey("works.Work", on_delete=models.CASCADE, related_name="offers")
    terms = models.ForeignKey(LicenceTerms, on_delete=models.PROTECT, related_name="offers")
    title = models.CharField(max_length=120)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    replaces = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    revocation = models.ForeignKey(
        "chain.ChainTransaction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="LicenseMarket.revokeOffer: unpaid quotes of a withdrawn offer stop working on chain",
    )

    objects = OfferQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["work", "terms"],
                condition=models.Q(status="active"),
                name="one_active_offer_per_terms",
            )
        ]
        indexes = [models.Index(fields=["work", "status"])]

    def __str__(self):
        return f"{self.title} on work {self.work_id}"

    @property
    def chain_key(self) -> str:
        """The offer's id in quotes and on chain (`offerId`, bytes32)."""
        return offer_chain_key(self.pk)


def offer_chain_key(pk: int) -> str:
    return "0x" + format(int(pk), "064x")


class Quote(models.Model):
    """A price the platform signed for one buyer, one offer and the uses they chose, until it
    expires; paid at most once (the contract refuses a second payment)."""

    class Status(models.TextChoices):
        OPEN = "open", "waiting for payment"
        PAID = "paid", "paid"
        EXPIRED = "expired", "expired"
        WITHDRAWN = "withdrawn", "offer withdrawn"

    quote_id = models.CharField(max_length=66, unique=True)
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="quotes")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="quotes")
    buyer_address = models.CharField(max_length=42)
    uses = models.PositiveSmallIntegerField(
        default=1, help_text="bitmask: 1 licence, 2 AI training, 4 generative AI"
    )
    lines = models.JSONField(
        default=list, help_text='[{"use": name, "price_wei": "..."}]: what each use costs'
    )
    price_wei = WeiField(help_text="in the smallest unit of `currency`")
    currency = models.CharField(
        max_length=8, default="ETH", help_text="ETH, or the stablecoin (a TokenQuote)"
    )
    split = models.JSONField(default=list, help_text="typed split lines (royalties.splits.SplitLine.as_json)")
    expiry = models.BigIntegerField(help_text="unix seconds")
    typed_data = models.JSONField()
    signature = models.CharField(max_length=132)
    market_address = models.CharField(max_length=42)
    chain_id = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["buyer", "offer", "status"])]

    def __str__(self):
        return self.quote_id

    def get_absolute_url(self):
        return reverse("licensing:quote", args=[self.quote_id])

    @property
    def expires_at(self):
        from datetime import UTC, datetime

        return datetime.fromtimestamp(self.expiry, tz=UTC)


class LicenceQuerySet(models.QuerySet):
    def valid(self, *, at=None):
        from django.utils import timezone

        at = at or timezone.now()
        return self.filter(status=Licence.Status.VALID).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=at)
        )

    def visible_to(self, user):
        """Licence details belong to the licensee, the licensor and moderators."""
        if user is None or not user.is_authenticated:
            return self.none()
        if is_moderator(user):
            return self
        return self.filter(models.Q(licensee=user) | models.Q(work__owner=user))


class Licence(models.Model):
    class Status(models.TextChoices):
        VALID = "valid", "valid"
        VOID = "void", "void"

    quote = models.OneToOneField(Quote, on_delete=models.PROTECT, related_name="licence")
    work = models.ForeignKey("works.Work", on_delete=models.PROTECT, related_name="licences")
    terms = models.ForeignKey(LicenceTerms, on_delete=models.PROTECT, related_name="licences")
    licensee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="licences")
    licensee_address = models.CharField(max_length=42)
    uses = models.PositiveSmallIntegerField(default=1, help_text="the uses bought (bitmask, as in the quote)")
    price_wei = WeiField()
    chain_event = models.OneToOneField("chain.ChainEvent", on_delete=models.PROTECT, related_name="licence")
    tx_hash = models.CharField(max_length=66)
    block_number = models.BigIntegerField()
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    certificate = models.JSONField(help_text="EIP-712 typed data of the certificate")
    certificate_signature = models.CharField(max_length=132)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.VALID, db_index=True)
    void_reason = models.CharField(max_length=300, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    objects = LicenceQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at"]

    def __str__(self):
        return f"licence {self.pk} of work {self.work_id}"

    def get_absolute_url(self):
        return reverse("licensing:licence", args=[self.pk])

    @property
    def granted(self) -> int:
        from licensing.uses import granted

        return granted(self.terms.terms, self.uses)


# What AI companies may do with a listed work, as its catalogue row holds it, in this order: read
# together (licensing.selectors.catalogue_ai_terms, a manifest check) and covered by one index.
AI_TERMS_FIELDS = (
    "ai_training",
    "ai_price_wei",
    "ai_currency",
    "genai_training",
    "genai_price_wei",
    "genai_currency",
)


class CatalogueEntry(models.Model):
    """One row per listed work: what the catalogue filters and sorts on, kept by the services
    that change offers, so a page is one count and one indexed query whatever its size."""

    work = models.OneToOneField(
        "works.Work", on_delete=models.CASCADE, primary_key=True, related_name="catalogue"
    )
    title = models.CharField(max_length=200)
    creator_address = models.CharField(max_length=42)
    creator_name = models.CharField(max_length=80, blank=True)
    search_text = models.TextField(help_text="lower-cased title, creator and tags")
    thumbnail = models.CharField(max_length=255)
    min_fee_wei = WeiField()
    fee_currency = models.CharField(
        max_length=8,
        default="ETH",
        help_text="min_fee_wei's currency: ETH unless every offer is in the stablecoin",
    )
    ai_training = models.CharField(max_length=16, help_text="the most permissive AI training among offers")
    # What an AI company pays per work for each purpose (free, else the cheapest paid offer), and
    # under which terms: the API's manifest check and training quotes read these.
    ai_price_wei = WeiField(default=0, help_text="in the smallest unit of ai_currency")
    ai_currency = models.CharField(max_length=8, default="ETH", help_text="ai_price_wei's currency")
    ai_terms = models.ForeignKey(
        LicenceTerms, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    genai_training = models.CharField(max_length=16, default="prohibited")
    ai_fetch = models.CharField(
        max_length=16,
        default="prohibited",
        help_text="AI use per fetch (x402): the most permissive among offers",
    )
    genai_price_wei = WeiField(default=0, help_text="in the smallest unit of genai_currency")
    genai_currency = models.CharField(max_length=8, default="ETH", help_text="genai_price_wei's currency")
    genai_terms = models.ForeignKey(
        LicenceTerms, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    commercial = models.BooleanField()
    derivatives = models.BooleanField()
    presets = models.CharField(max_length=200, help_text="space-separated preset keys of active offers")
    offer_count = models.PositiveSmallIntegerField()
    listed_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True, help_text="versions the cached catalogue card")

    class Meta:
        verbose_name_plural = "catalogue entries"
        indexes = [
            models.Index(fields=["-listed_at", "-work"], name="cat_recent"),
            models.Index(fields=["min_fee_wei", "work"], name="cat_price"),
            models.Index(fields=["ai_training", "-listed_at"], name="cat_ai"),
            models.Index(fields=["ai_training", "min_fee_wei", "work"], name="cat_ai_price"),
            models.Index(fields=["presets", "-listed_at"], name="cat_presets"),
            models.Index(fields=["commercial", "-listed_at"], name="cat_commercial"),
            models.Index(fields=["creator_address", "-listed_at"], name="cat_creator"),
            models.Index(fields=["title"], name="cat_title"),
            # covers a manifest check's read of a matched work's AI terms (training/services.py)
            models.Index(fields=["work", *AI_TERMS_FIELDS], name="cat_ai_terms_cur"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return work_url(self.work_id)


# ---------------------------------------------------------------- terms changes (the AI companies' feed)


class WorkTermsChange(models.Model):
    """Append-only log of changes to a work's AI terms (the changes feed of the API): a creator
    who switches a work to "AI training prohibited" withdraws consent for new licences at once."""

    class Kind(models.TextChoices):
        TERMS = "terms_changed", "terms changed"
        CONSENT_WITHDRAWN = "consent_withdrawn", "AI training consent withdrawn"
        DELISTED = "delisted", "no longer offered"

    work = models.ForeignKey("works.Work", on_delete=models.CASCADE, related_name="terms_changes")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    training = models.CharField(max_length=16, choices=AI_CHOICES)
    training_price_wei = WeiField(default=0)
    training_currency = models.CharField(max_length=8, default="ETH")
    generative_training = models.CharField(max_length=16, choices=AI_CHOICES)
    generative_training_price_wei = WeiField(default=0)
    generative_training_currency = models.CharField(max_length=8, default="ETH")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["work", "id"])]

    def __str__(self):
        return f"{self.kind} on work {self.work_id}"


class PaidFetch(models.Model):
    """One AI fetch paid with x402: an automated client (no account) paid a work's per-fetch
    price in the stablecoin by an EIP-3009 authorisation, settled through LicenseMarket under a
    TokenQuote the platform signed, so the money is split on chain as for any licence. The
    authorisation's (payer, nonce) is used once; the ledger is posted from the TokenCredited
    events, never from here."""

    class Status(models.TextChoices):
        SETTLING = "settling", "settling"
        PAID = "paid", "paid"
        FAILED = "failed", "failed"

    quote_id = models.CharField(max_length=66, unique=True)
    work = models.ForeignKey("works.Work", on_delete=models.PROTECT, related_name="paid_fetches")
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="paid_fetches")
    terms = models.ForeignKey(LicenceTerms, on_delete=models.PROTECT, related_name="paid_fetches")
    payer = models.CharField(max_length=42, db_index=True)
    token = models.CharField(max_length=42)
    currency = models.CharField(max_length=8)
    amount_units = WeiField(help_text="the price in the token's smallest unit")
    nonce = models.CharField(max_length=66, help_text="the EIP-3009 authorisation's nonce")
    valid_before = models.BigIntegerField()
    split = models.JSONField(default=list, help_text="typed split lines (royalties.splits.SplitLine.as_json)")
    typed_data = models.JSONField(help_text="the TokenQuote the platform signed")
    signature = models.CharField(max_length=132)
    resource = models.CharField(max_length=500)
    tx_hash = models.CharField(max_length=66, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SETTLING, db_index=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [  # a failed settlement moved nothing: the same authorisation may be tried again
            models.UniqueConstraint(
                fields=["payer", "nonce"],
                condition=~models.Q(status="failed"),
                name="one_fetch_per_authorisation",
            )
        ]
        indexes = [models.Index(fields=["work", "status", "-created_at"], name="fetch_work_recent")]

    # What the licensed file's XMP and C2PA say (licensing.delivery reads a licence the same way).
    uses = AI_FETCH
    licensee = None

    def __str__(self):
        return f"AI fetch of work {self.work_id} by {self.payer}"

    def get_absolute_url(self):
        return reverse("licensing:fetch_receipt", args=[self.quote_id])

    @property
    def licensee_address(self) -> str:
        return self.payer
