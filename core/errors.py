"""One place for the refusals every app shares.

A service refuses with a `PortalError` (or a subclass) carrying a message meant for the person or
client who asked; views turn it into a form error, a message or a 4xx JSON body. Errors that mean
"the chain cannot be asked right now" are caught with `CHAIN_ERRORS` and answered with
`ERR_CHAIN_DOWN` (503), never a 500.
"""

from requests.exceptions import RequestException
from web3.exceptions import ProviderConnectionError


class PortalError(Exception):
    """A refusal with a message for the user. `code` is a short machine-readable name (API)."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class ChainUnavailable(PortalError):
    """No node answers at CHAIN_RPC_URL, or it is on another chain."""

    status = 503
    code = "chain_unavailable"


class ContractNotDeployed(PortalError):
    """A contract of ours has no recorded deployment on this chain."""

    status = 503
    code = "contract_not_deployed"


# A node that is down, slow or refuses the connection surfaces as one of requests' errors (web3's
# HTTP provider) or web3's ProviderConnectionError; ours as ChainUnavailable / ContractNotDeployed.
# Not every OSError: a full disk is not a chain that is down.
CHAIN_ERRORS = (ChainUnavailable, ContractNotDeployed, RequestException, ProviderConnectionError)

ERR_CHAIN_DOWN = "The chain is not reachable right now; try again in a moment."
ERR_NO_WALLET = "Your account has no wallet address; sign in with your wallet first."
ERR_NOT_FOUND = "Not found."
ERR_STORAGE_DOWN = "The portal cannot read or write its files right now; try again later."
