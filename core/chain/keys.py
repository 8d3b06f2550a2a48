"""The platform's keys and addresses, derived in one place.

- the sender key (CHAIN_SENDER_PRIVATE_KEY) sends every transaction of the portal's own
  (anchoring, revocations, escrow releases) through `core.chain.sender`;
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


def moderation_signer() -> LocalAccount:
    """Signs a moderator's decision naming where an escrowed share goes (EscrowDecision): the
    operator key alone can only release escrow to the parties the escrow leaf names."""
    return _account(settings.MODERATION_SIGNING_KEY)


def owner_address() -> str:
    """The contracts' cold owner: rotates every key and unpauses. Only its address is here."""
    return Web3.to_checksum_address(settings.CHAIN_OWNER_ADDRESS)


def guardian_address() -> str:
    return Web3.to_checksum_address(settings.CHAIN_GUARDIAN_ADDRESS or settings.CHAIN_OWNER_ADDRESS)


def platform_fee_address() -> str:
    return Web3.to_checksum_address(settings.PLATFORM_FEE_ADDRESS or platform_signer().address)


# The ten accounts every anvil and hardhat node prints ("test test … junk"): public keys that
# anyone can spend from, for development chains only.
DEVELOPMENT_KEYS = frozenset(
    {
        "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
        "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
        "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
        "7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
        "47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
        "8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
        "92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
        "4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
        "dbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
        "2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
    }
)
# Chains where those keys may run: anvil/hardhat (31337) and the conventional local id (1337).
DEVELOPMENT_CHAIN_IDS = frozenset({31337, 1337})


DEVELOPMENT_ADDRESSES = frozenset(Account.from_key(key).address for key in DEVELOPMENT_KEYS)


def is_development_key(key: str) -> bool:
    return (key or "").lower().removeprefix("0x") in DEVELOPMENT_KEYS


def platform_keys() -> dict[str, str]:
    """Every key the server holds, by the setting that holds it."""
    return {
        "CHAIN_SENDER_PRIVATE_KEY": settings.CHAIN_SENDER_PRIVATE_KEY,
        "PLATFORM_SIGNING_KEY": settings.PLATFORM_SIGNING_KEY,
        "MODERATION_SIGNING_KEY": settings.MODERATION_SIGNING_KEY,
    }


def development_keys_in_use(chain_id: int) -> list[str]:
    """The settings that hold a public development key while the chain is not a development
    chain: the portal must refuse to run (system check) and to deploy (chain_deploy)."""
    if chain_id in DEVELOPMENT_CHAIN_IDS:
        return []
    names = [name for name, key in platform_keys().items() if is_development_key(key)]
    for name in ("CHAIN_OWNER_ADDRESS", "CHAIN_GUARDIAN_ADDRESS"):  # anyone holds their keys
        value = getattr(settings, name, "")
        if value and Web3.is_address(value) and Web3.to_checksum_address(value) in DEVELOPMENT_ADDRESSES:
            names.append(name)
    return names
