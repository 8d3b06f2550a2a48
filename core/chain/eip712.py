"""EIP-712 helpers shared by every payload the portal signs or asks a wallet to sign."""

from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_utils import to_hex

DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
]
DOMAIN_FIELDS_WITH_CONTRACT = [*DOMAIN_FIELDS, {"name": "verifyingContract", "type": "address"}]


def typed_data_digest(typed_data: dict) -> str:
    """The 32-byte EIP-712 digest (what the signature signs), as 0x hex."""
    return to_hex(_hash_eip191_message(encode_typed_data(full_message=typed_data)))


def typed_data_sign(typed_data: dict, key) -> str:
    """Sign with a private key (hex string or bytes) or an eth-account LocalAccount."""
    account = key if hasattr(key, "sign_message") else Account.from_key(key)
    return to_hex(account.sign_message(encode_typed_data(full_message=typed_data)).signature)


def typed_data_signer(typed_data: dict, signature: str) -> str:
    """The EIP-55 address that made `signature` over `typed_data` (raises on garbage)."""
    return Account.recover_message(encode_typed_data(full_message=typed_data), signature=signature)
