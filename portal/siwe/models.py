from django.db import models


class SiweNonceQuerySet(models.QuerySet):
    def usable(self, *, now):
        return self.filter(used_at__isnull=True, expires_at__gt=now)


class SiweNonce(models.Model):
    """A sign-in nonce, bound to the session that asked for it, usable once."""

    nonce = models.CharField(max_length=64, unique=True)
    session_key = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    objects = SiweNonceQuerySet.as_manager()

    class Meta:
        verbose_name = "SIWE nonce"

    def __str__(self):
        return self.nonce
