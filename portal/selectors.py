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
