"""The kernel's models. Their tables keep the names they had when they lived in the portal app
(`portal_profile`, `portal_notification`, `portal_lease`): moved in state only."""

from django.conf import settings
from django.db import models


class Profile(models.Model):
    """What a person shows of themselves; the wallet address stays on the allauth account."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    display_name = models.CharField(max_length=80, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "portal_profile"

    def __str__(self):
        return self.display_name or self.user.get_username()


class Notification(models.Model):
    """Something a person should know: a sale's dispute, their work found in a dataset, a
    training run that used it against its terms."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40)
    text = models.CharField(max_length=500)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "portal_notification"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self):
        return self.text


class Lease(models.Model):
    """Who holds a piece of work, and until when (core/leases.py).

    A worker that holds a lease past `until` without renewing it is presumed dead: the next one
    to ask takes the work over. Beat ticks and audit parts hold leases, so a worker killed with
    SIGKILL on any broker costs a retry once its lease runs out, and nothing runs twice at once."""

    name = models.CharField(max_length=200, unique=True)
    holder = models.CharField(max_length=200, blank=True, help_text="host:pid of the process holding it")
    until = models.DateTimeField(db_index=True)
    acquired_at = models.DateTimeField(null=True, blank=True)
    renewed_at = models.DateTimeField(null=True, blank=True)
    times_acquired = models.PositiveIntegerField(default=0)
    times_taken_over = models.PositiveIntegerField(
        default=0, help_text="acquired after another holder's lease ran out (a presumed crash)"
    )

    class Meta:
        db_table = "portal_lease"
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} held by {self.holder or 'nobody'} until {self.until:%H:%M:%S}"
