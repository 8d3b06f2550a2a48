"""The one flow that turns a verified wallet address into an allauth login."""

from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.helpers import complete_social_login

from portal.siwe.provider import EthereumProvider

ERR_LOGIN_REFUSED = "This wallet's account cannot sign in (it may be disabled); contact support."


def siwe_login(*, request, address: str) -> bool:
    """Log `address` in through allauth, creating its account the first time.

    allauth owns the account, the SocialAccount row (uid = checksummed address), session
    rotation and the login signals; this only hands it a verified identity.
    """
    provider = get_adapter().get_provider(request, EthereumProvider.id)
    sociallogin = provider.sociallogin_from_response(request, {"address": address})
    sociallogin.state = {"process": "login"}
    complete_social_login(request, sociallogin)
    return bool(request.user.is_authenticated and request.user == sociallogin.user)
