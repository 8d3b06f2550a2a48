from django.utils.functional import SimpleLazyObject

from portal.selectors import notifications_unread, wallet_address_for_request


def portal(request):
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    return {
        "wallet_address": wallet_address_for_request(request),
        # asked only when a page shows the bell (one indexed count)
        "unread_notifications": SimpleLazyObject(lambda: notifications_unread(user=user) if signed_in else 0),
    }
