"""Telling people what happened: a notification in the portal (the bell in the menu and
/notifications/), and an e-mail when they gave an address. Services call `notify` or
`notify_address`; nothing else sends messages.

The row is written in the caller's transaction (a handler that rolls back takes its
notification with it); the e-mail goes once that transaction commits, so a retried handler
never mails twice.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from core.models import Notification
from core.selectors import users_for_addresses

logger = logging.getLogger(__name__)

KINDS = {
    "dispute": "Dispute",
    "sale": "Sale",
    "training_sale": "Sale to an AI company",
    "training_violation": "Training against your terms",
    "found_in_dataset": "Found in a dataset",
    "split_request": "Co-creator request",
    "split_in_force": "Split sheet in force",
    "derivative_request": "Derivative request",
    "revocation": "Registration revoked",
}


def _mail(user_id: int, email: str, kind: str, text: str, url: str) -> None:
    link = f"{settings.PORTAL_BASE_URL.rstrip('/')}{url}" if url else ""
    try:
        send_mail(
            subject=f"Creator IP Portal: {text[:80]}",
            message=f"{text}\n\n{link}" if link else text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[email],
            fail_silently=False,
        )
    except OSError:  # a mail server that is down must not undo what happened
        logger.warning("could not e-mail %s about %s", user_id, kind, exc_info=True)


def notify(*, user, kind: str, text: str, url: str = "") -> Notification:
    notification = Notification.objects.create(user=user, kind=kind[:40], text=text[:500], url=url[:500])
    if user.email:
        email = user.email
        transaction.on_commit(lambda: _mail(user.pk, email, kind, text, url))
    return notification


def notify_address(*, address: str, kind: str, text: str, url: str = "") -> Notification | None:
    """Tell whoever signed in with this wallet; nobody yet, nothing (their dashboard will show it)."""
    user = users_for_addresses([address]).get(address)
    return notify(user=user, kind=kind, text=text, url=url) if user else None


def notifications_read(*, user, ids=None) -> int:
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())
