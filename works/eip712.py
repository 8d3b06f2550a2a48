"""The EIP-712 `Registration` a creator's wallet signs for each work."""

from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_utils import to_hex

from portal.chain.eip712 import DOMAIN_FIELDS_WITH_CONTRACT

DOMAIN_NAME = "Creator IP Portal"
DOMAIN_VERSION = "1"
REGISTRATION_TYPES = {
    "EIP712Domain": DOMAIN_FIELDS_WITH_CONTRACT,
    "Registration": [
        {"name": "contentHash", "type": "bytes32"},
        {"name": "pdqHash", "type": "bytes32"},
        {"name": "title", "type": "string"},
        {"name": "termsHash", "type": "bytes32"},
        {"name": "creator", "type": "address"},
        {"name": "timestamp", "type": "uint256"},
    ],
}


def registration_typed_data(
    *,
    sha256: str,
    pdq: str,
    title: str,
    terms_hash: str,
    creator: str,
    timestamp: int,
    chain_id: int,
    verifying_contract: str,
) -> dict:
    return {
        "types": REGISTRATION_TYPES,
        "primaryType": "Registration",
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": chain_id,
            "verifyingContract": verifying_contract,
        },
        "message": {
            "contentHash": "0x" + sha256,
            "pdqHash": "0x" + pdq,
            "title": title,
            "termsHash": terms_hash,
            "creator": creator,
            "timestamp": timestamp,
        },
    }


def typed_data_digest(typed_data: dict) -> str:
    return to_hex(_hash_eip191_message(encode_typed_data(full_message=typed_data)))


def typed_data_signer(typed_data: dict, signature: str) -> str:
    return Account.recover_message(encode_typed_data(full_message=typed_data), signature=signature)


def typed_data_sign(typed_data: dict, account) -> str:
    return to_hex(account.sign_message(encode_typed_data(full_message=typed_data)).signature)
