"""The one place that builds a web3 client from settings."""

from functools import lru_cache

from django.conf import settings
from web3 import Web3
from web3.middleware import ExtraDataToPOAMiddleware

from core.errors import ChainUnavailable

__all__ = ["ChainUnavailable", "chain_check", "get_web3", "web3_for_url"]
ERR_CHAIN_ID_MISMATCH = "The node at {url} reports chain id {got}, but CHAIN_ID is {expected}."
ERR_NO_NODE = "No chain answers at {url}: {exc}"


def web3_for_url(url: str, *, timeout: float = 10.0) -> Web3:
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": timeout}))
    # Harmless on anvil and mainnet, needed on PoA chains whose extraData is longer than 32 bytes.
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    return w3


@lru_cache(maxsize=4)
def _cached(url: str) -> Web3:
    return web3_for_url(url)


def get_web3() -> Web3:
    return _cached(settings.CHAIN_RPC_URL)


def chain_check(w3: Web3 | None = None) -> int:
    """Return the node's chain id, or raise ChainUnavailable with a message that says why."""
    w3 = w3 or get_web3()
    try:
        chain_id = w3.eth.chain_id
    except Exception as exc:  # connection refused, timeouts, JSON-RPC errors
        raise ChainUnavailable(ERR_NO_NODE.format(url=settings.CHAIN_RPC_URL, exc=exc)) from exc
    if chain_id != settings.CHAIN_ID:
        raise ChainUnavailable(
            ERR_CHAIN_ID_MISMATCH.format(url=settings.CHAIN_RPC_URL, got=chain_id, expected=settings.CHAIN_ID)
        )
    return chain_id
