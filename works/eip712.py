"""The EIP-712 `Registration` a creator's wallet signs for each work.

`parents` lists the content hashes of the works this one derives from (empty for an original),
so the lineage a creator declares is part of what they sign. Signing and recovery live in
`core.chain.eip712`.
"""

from core.chain.eip712 import DOMAIN_FIELDS_WITH_CONTRACT

DOMAIN_NAME = "Creator IP Portal"
DOMAIN_VERSION = "1"


def _domain(chain_id: int, verifying_contract: str) -> dict:
    """The portal's EIP-712 domain, shared by registrations, revocations and portfolios."""
    return {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": chain_id,
        "verifyingContract": verifying_contract,
    }


REGISTRATION_TYPES = {
    "EIP712Domain": DOMAIN_FIELDS_WITH_CONTRACT,
    "Registration": [
        {"name": "contentHash", "type": "bytes32"},
        {"name": "pdqHash", "type": "bytes32"},
        {"name": "title", "type": "string"},
        {"name": "termsHash", "type": "bytes32"},
        {"name": "creator", "type": "address"},
        {"name": "timestamp", "type": "uint256"},
        {"name": "parents", "type": "bytes32[]"},
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
    parents: list[str] | tuple = (),
) -> dict:
    return {
        "types": REGISTRATION_TYPES,
        "primaryType": "Registration",
        "domain": _domain(chain_id, verifying_contract),
        "message": {
            "contentHash": "0x" + sha256,
            "pdqHash": "0x" + pdq,
            "title": title,
            "termsHash": terms_hash,
            "creator": creator,
            "timestamp": timestamp,
            "parents": ["0x" + p for p in parents],
        },
    }


REVOCATION_TYPES = {
    "EIP712Domain": DOMAIN_FIELDS_WITH_CONTRACT,
    "Revocation": [
        {"name": "registrationDigest", "type": "bytes32"},
        {"name": "contentHash", "type": "bytes32"},
        {"name": "revokedAt", "type": "uint256"},
        {"name": "reason", "type": "string"},
    ],
}


def revocation_typed_data(
    *,
    registration_digest: str,
    sha256: str,
    revoked_at: int,
    reason: str,
    chain_id: int,
    verifying_contract: str,
) -> dict:
    """What the platform signs when a moderator revokes a registration."""
    return {
        "types": REVOCATION_TYPES,
        "primaryType": "Revocation",
        "domain": _domain(chain_id, verifying_contract),
        "message": {
            "registrationDigest": registration_digest,
            "contentHash": "0x" + sha256,
            "revokedAt": revoked_at,
            "reason": reason,
        },
    }


PORTFOLIO_TYPES = {
    "EIP712Domain": DOMAIN_FIELDS_WITH_CONTRACT,
    "Portfolio": [
        {"name": "statement", "type": "string"},
        {"name": "creator", "type": "address"},
        {"name": "registrationsRoot", "type": "bytes32"},
        {"name": "count", "type": "uint256"},
        {"name": "timestamp", "type": "uint256"},
    ],
}
# Each leaf of a portfolio's tree is one work's `Registration` digest (OpenZeppelin
# StandardMerkleTree, leaf encoding ["bytes32"]): one signature over the root signs every one.
PORTFOLIO_LEAF_ENCODING = ["bytes32"]


def portfolio_typed_data(
    *, creator: str, root: str, count: int, timestamp: int, chain_id: int, verifying_contract: str
) -> dict:
    """What a creator's wallet signs once to register `count` works: the Merkle root of their
    individual registrations."""
    return {
        "types": PORTFOLIO_TYPES,
        "primaryType": "Portfolio",
        "domain": _domain(chain_id, verifying_contract),
        "message": {
            "statement": f"I register these {count} works as my own.",
            "creator": creator,
            "registrationsRoot": root,
            "count": count,
            "timestamp": timestamp,
        },
    }
