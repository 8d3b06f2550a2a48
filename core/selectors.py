from allauth.socialaccount.models import SocialAccount

from core.models import Notification, Profile

NOTIFICATIONS_PAGE = 30


def wallet_address_for_user(*, user) -> str | None:
    account = SocialAccount.objects.filter(user=user, provider="ethereum").only("uid").first()
    return account.uid if account else None


def profile_for_user(*, user) -> Profile:
    """The user's profile, or an unsaved blank one: reading never writes."""
    try:
        return user.profile
    except Profile.DoesNotExist:
        return Profile(user=user)


def wallet_address_for_request(request) -> str | None:
    """The signed-in user's address, asked once per request (the context processor shares it)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    if not hasattr(request, "_wallet_address"):
        request._wallet_address = wallet_address_for_user(user=user)
    return request._wallet_address


def users_for_addresses(addresses) -> dict:
    """address -> the user who signs in with that wallet (addresses nobody uses are left out)."""
    rows = SocialAccount.objects.filter(provider="ethereum", uid__in=list(addresses)).select_related("user")
    return {row.uid: row.user for row in rows}


def notifications_unread(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notifications_page(*, user, before: int | None = None) -> list[Notification]:
    """Newest first, a page at a time (keyset on id)."""
    rows = Notification.objects.filter(user=user).order_by("-pk")
    if before:
        rows = rows.filter(pk__lt=before)
    return list(rows[:NOTIFICATIONS_PAGE])
