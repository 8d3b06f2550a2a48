"""The licence certificate the platform signs for a licensee (EIP-712, no contract: anyone
verifies it with the platform's address). The market's messages are in core.chain.market."""

from core.chain.eip712 import DOMAIN_FIELDS

CERTIFICATE_TYPES = {
    "EIP712Domain": DOMAIN_FIELDS,
    "LicenceCertificate": [
        {"name": "quoteId", "type": "bytes32"},
        {"name": "workId", "type": "uint256"},
        {"name": "contentHash", "type": "bytes32"},
        {"name": "termsHash", "type": "bytes32"},
        {"name": "licensor", "type": "address"},
        {"name": "licensee", "type": "address"},
        {"name": "uses", "type": "uint8"},
        {"name": "price", "type": "uint256"},
        {"name": "txHash", "type": "bytes32"},
        {"name": "issuedAt", "type": "uint256"},
        {"name": "expiresAt", "type": "uint256"},
    ],
}
# A licence paid in a token (the stablecoin) says which: its price is in the token's unit.
TOKEN_CERTIFICATE_TYPES = {
    **CERTIFICATE_TYPES,
    "LicenceCertificate": [
        *CERTIFICATE_TYPES["LicenceCertificate"],
        {"name": "currency", "type": "string"},
        {"name": "token", "type": "address"},
    ],
}
CERTIFICATE_DOMAIN = {"name": "Creator IP Portal Licence", "version": "1"}


def certificate_typed_data(*, chain_id, **message):
    return {
        "types": TOKEN_CERTIFICATE_TYPES if "token" in message else CERTIFICATE_TYPES,
        "primaryType": "LicenceCertificate",
        "domain": {**CERTIFICATE_DOMAIN, "chainId": chain_id},
        "message": message,
    }
