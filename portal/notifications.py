"""Telling people what happened: a notification in the portal, and an e-mail when they gave an
address. Services call `notify`; nothing else sends messages."""

import logging

from django.conf import settings
from django.core.mail import send_mail

from portal.models import Notification

logger = logging.getLogger(__name__)


def notify(*, user, kind: str, text: str, url: str = "") -> Notification:
    notification = Notification.objects.create(user=user, kind=kind[:40], text=text[:500], url=url[:500])
    if user.email:
        try:
            send_mail(
                subject=f"Creator IP Portal: {text[:80]}",
                message=f"{text}\n\n{settings.PORTAL_BASE_URL.rstrip('/')}{url}" if url else text,
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[user.email],
                fail_silently=False,
            )
        except OSError:  # a mail server that is down must not undo what happened
            logger.warning("could not e-mail %s about %s", user.pk, kind, exc_info=True)
    return notification


def notifications_read(*, user, ids=None) -> int:
    from django.utils import timezone

    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())
