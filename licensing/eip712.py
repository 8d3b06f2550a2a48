"""EIP-712 payloads the platform signs: the purchase `Quote` and the `LicenceCertificate`."""

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import to_hex

from portal.chain.eip712 import DOMAIN_FIELDS, DOMAIN_FIELDS_WITH_CONTRACT

MARKET_DOMAIN = {"name": "Creator IP Portal Market", "version": "1"}
QUOTE_TYPES = {
    "EIP712Domain": DOMAIN_FIELDS_WITH_CONTRACT,
    "Quote": [
        {"name": "quoteId", "type": "bytes32"},
        {"name": "workId", "type": "uint256"},
        {"name": "termsHash", "type": "bytes32"},
        {"name": "buyer", "type": "address"},
        {"name": "price", "type": "uint256"},
        {"name": "payees", "type": "address[]"},
        {"name": "bps", "type": "uint16[]"},
        {"name": "expiry", "type": "uint64"},
    ],
}
CERTIFICATE_TYPES = {
    "EIP712Domain": DOMAIN_FIELDS,
    "LicenceCertificate": [
        {"name": "quoteId", "type": "bytes32"},
        {"name": "workId", "type": "uint256"},
        {"name": "contentHash", "type": "bytes32"},
        {"name": "termsHash", "type": "bytes32"},
        {"name": "licensee", "type": "address"},
        {"name": "price", "type": "uint256"},
        {"name": "txHash", "type": "bytes32"},
        {"name": "issuedAt", "type": "uint256"},
        {"name": "expiresAt", "type": "uint256"},
    ],
}


def quote_typed_data(*, chain_id, market, quote_id, work_id, terms_hash, buyer, price, payees, bps, expiry):
    return {
        "types": QUOTE_TYPES,
        "primaryType": "Quote",
        "domain": {**MARKET_DOMAIN, "chainId": chain_id, "verifyingContract": market},
        "message": {
            "quoteId": quote_id,
            "workId": work_id,
            "termsHash": terms_hash,
            "buyer": buyer,
            "price": int(price),
            "payees": payees,
            "bps": bps,
            "expiry": expiry,
        },
    }


def certificate_typed_data(*, chain_id, **message):
    return {
        "types": CERTIFICATE_TYPES,
        "primaryType": "LicenceCertificate",
        "domain": {"name": "Creator IP Portal Licence", "version": "1", "chainId": chain_id},
        "message": message,
    }


def sign(typed_data: dict, key: str) -> str:
    signature = Account.from_key(key).sign_message(encode_typed_data(full_message=typed_data)).signature
    return to_hex(signature)


def signer_of(typed_data: dict, signature: str) -> str:
    return Account.recover_message(encode_typed_data(full_message=typed_data), signature=signature)
