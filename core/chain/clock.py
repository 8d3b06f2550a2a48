"""The chain's clock. A quote or settlement expiry is checked by the contract against
`block.timestamp`, so it is written and compared in that clock, not the server's: a chain whose
clock runs ahead of this server (a testnet, a moved anvil) never receives a quote that is
already expired on chain.

The offset between the newest block's timestamp and this server's clock is measured at most
every CLOCK_TTL seconds (one RPC call); when the chain cannot be asked, the last offset known
is used, and the server's clock when none is."""

import threading
import time

from django.conf import settings
from web3 import Web3

from core.chain.client import get_web3
from core.errors import CHAIN_ERRORS

CLOCK_TTL = 5.0
_offsets: dict[str, tuple[float, float]] = {}  # RPC URL -> (chain minus server seconds, measured at)
_lock = threading.Lock()


def chain_now(w3: Web3 | None = None) -> int:
    """Unix seconds by the chain's clock (the newest block's timestamp, moved on by the time
    elapsed here since it was read)."""
    url = settings.CHAIN_RPC_URL
    known = _offsets.get(url)
    if known is None or time.monotonic() - known[1] > CLOCK_TTL:
        try:
            latest = (w3 or get_web3()).eth.get_block("latest")["timestamp"]
        except CHAIN_ERRORS:
            latest = None
        if latest is not None:
            with _lock:
                _offsets[url] = known = (latest - time.time(), time.monotonic())
    return int(time.time() + (known[0] if known else 0))


def chain_clock_forget() -> None:
    """Measure again on the next call (after the chain's time was moved)."""
    _offsets.clear()
