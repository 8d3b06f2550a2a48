from allauth.socialaccount.models import SocialAccount

from portal.models import Profile


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
