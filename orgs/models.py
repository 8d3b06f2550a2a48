"""Organisations (AI companies), their members, the wallets they pay from, and API keys.

API keys are shown once and stored as a SHA-256 digest beside a visible prefix; a key carries
scopes (read, license, report), a per-minute rate limit, and can be revoked. Every object an
organisation owns is reached through it, so another organisation's id is simply not found.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse

from core.api import Scope


class Organisation(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("orgs:detail", args=[self.slug])


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", "admin"
        MEMBER = "member", "member"

    org = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "user"], name="one_membership_per_user")]

    def __str__(self):
        return f"{self.user} in {self.org} ({self.role})"


class PayingWallet(models.Model):
    """A wallet the organisation pays settlements and invoices from."""

    org = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="wallets")
    address = models.CharField(max_length=42)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "address"], name="one_row_per_wallet")]

    def __str__(self):
        return self.address


class ApiKey(models.Model):
    Scope = Scope  # core.api.Scope: the routers check scopes without importing organisations

    org = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=80)
    prefix = models.CharField(
        max_length=16, unique=True, help_text="shown in lists; the rest is never stored"
    )
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the whole key")
    scopes = models.JSONField(default=list)
    rate_per_minute = models.PositiveIntegerField(default=120)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
