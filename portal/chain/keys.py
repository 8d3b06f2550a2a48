"""The platform's keys and addresses, derived in one place.

- the sender key (CHAIN_SENDER_PRIVATE_KEY) sends every transaction of the portal's own
  (anchoring, revocations, escrow releases) through `portal.chain.sender`;
- the platform signing key (PLATFORM_SIGNING_KEY) signs quotes, settlements and certificates;
  the contracts trust its address;
- the platform fee goes to PLATFORM_FEE_ADDRESS, or to the signing key's address.
"""

from functools import lru_cache

from django.conf import settings
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3


@lru_cache(maxsize=4)
def _account(key: str) -> LocalAccount:
    return Account.from_key(key)


def sender_account() -> LocalAccount:
    return _account(settings.CHAIN_SENDER_PRIVATE_KEY)


def platform_signer() -> LocalAccount:
    return _account(settings.PLATFORM_SIGNING_KEY)


def platform_fee_address() -> str:
    return Web3.to_checksum_address(settings.PLATFORM_FEE_ADDRESS or platform_signer().address)
