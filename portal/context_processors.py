from django.conf import settings
from django.utils.functional import SimpleLazyObject

from core.selectors import notifications_unread, wallet_address_for_request


def _wallet_chain() -> dict:
    """The portal's chain as EIP-3085 `wallet_addEthereumChain` takes it (and switch uses its id)."""
    chain = {
        "chainId": hex(settings.CHAIN_ID),
        "chainName": settings.CHAIN_NAME,
        "rpcUrls": [settings.CHAIN_WALLET_RPC_URL],
        "nativeCurrency": {"name": "Ether", "symbol": "ETH", "decimals": 18},
    }
    if settings.CHAIN_EXPLORER_URL:
        chain["blockExplorerUrls"] = [settings.CHAIN_EXPLORER_URL]
    return chain


def portal(request):
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    return {
        "wallet_chain": _wallet_chain(),
        "wallet_address": wallet_address_for_request(request),
        # asked only when a page shows the bell (one indexed count)
        "unread_notifications": SimpleLazyObject(lambda: notifications_unread(user=user) if signed_in else 0),
    }
