from functools import lru_cache

from django.conf import settings
from django.db import models
from django.urls import reverse

from licensing.terms import AI_CHOICES, Terms

WEI = {"max_digits": 78, "decimal_places": 0}


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
    fee_wei = models.DecimalField(**WEI)
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


class Quote(models.Model):
    """A price the platform signed for one buyer, one offer, until it expires; paid at most once."""

    class Status(models.TextChoices):
        OPEN = "open", "waiting for payment"
        PAID = "paid", "paid"
        EXPIRED = "expired", "expired"

    quote_id = models.CharField(max_length=66, unique=True)
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="quotes")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="quotes")
    buyer_address = models.CharField(max_length=42)
    price_wei = models.DecimalField(**WEI)
    payees = models.JSONField(help_text="[[address, bps, role], ...]; bps sum to 10,000")
    expiry = models.BigIntegerField(help_text="unix seconds")
    typed_data = models.JSONField()
    signature = models.CharField(max_length=132)
    market_address = models.CharField(max_length=42)
    chain_id = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    tx_hash = models.CharField(max_length=66, blank=True, help_text="reported by the buyer's browser")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.quote_id


class Licence(models.Model):
    quote = models.OneToOneField(Quote, on_delete=models.PROTECT, related_name="licence")
    work = models.ForeignKey("works.Work", on_delete=models.PROTECT, related_name="licences")
    terms = models.ForeignKey(LicenceTerms, on_delete=models.PROTECT, related_name="licences")
    licensee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="licences")
    licensee_address = models.CharField(max_length=42)
    price_wei = models.DecimalField(**WEI)
    chain_event = models.OneToOneField("chain.ChainEvent", on_delete=models.PROTECT, related_name="licence")
    tx_hash = models.CharField(max_length=66)
    block_number = models.BigIntegerField()
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    certificate = models.JSONField(help_text="EIP-712 typed data of the certificate")
    certificate_signature = models.CharField(max_length=132)

    class Meta:
        ordering = ["-issued_at"]

    def __str__(self):
        return f"licence {self.pk} of work {self.work_id}"

    def get_absolute_url(self):
        return reverse("licensing:licence", args=[self.pk])


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
    min_fee_wei = models.DecimalField(**WEI)
    ai_training = models.CharField(max_length=16, help_text="the most permissive AI training among offers")
    commercial = models.BooleanField()
    derivatives = models.BooleanField()
    presets = models.CharField(max_length=200, help_text="space-separated preset keys of active offers")
    offer_count = models.PositiveSmallIntegerField()
    listed_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True, help_text="versions the cached catalogue card")

    class Meta:
        indexes = [
            models.Index(fields=["-listed_at", "-work"], name="cat_recent"),
            models.Index(fields=["min_fee_wei", "work"], name="cat_price"),
            models.Index(fields=["ai_training", "-listed_at"], name="cat_ai"),
            models.Index(fields=["ai_training", "min_fee_wei", "work"], name="cat_ai_price"),
            models.Index(fields=["presets", "-listed_at"], name="cat_presets"),
            models.Index(fields=["commercial", "-listed_at"], name="cat_commercial"),
            models.Index(fields=["creator_address", "-listed_at"], name="cat_creator"),
            models.Index(fields=["title"], name="cat_title"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return _work_url_pattern().replace(_URL_SENTINEL, str(self.work_id))


_URL_SENTINEL = "987654321987"


@lru_cache(maxsize=1)
def _work_url_pattern() -> str:
    # reverse() costs ~0.1 ms; a page lists dozens of works, so reverse once and fill the id in.
    return reverse("works:detail", args=[int(_URL_SENTINEL)])
