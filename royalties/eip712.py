"""The EIP-712 `SplitAcceptance` each co-creator's wallet signs: the agreement is verifiable by
anyone from the typed data and the signature."""

import json

from eth_utils import keccak, to_hex

from core.chain.eip712 import DOMAIN_FIELDS

SPLIT_DOMAIN = {"name": "Creator IP Portal Splits", "version": "1"}
SPLIT_TYPES = {
    "EIP712Domain": DOMAIN_FIELDS,
    "SplitAcceptance": [
        {"name": "workId", "type": "uint256"},
        {"name": "contentHash", "type": "bytes32"},
        {"name": "version", "type": "uint256"},
        {"name": "sheetHash", "type": "bytes32"},
        {"name": "owner", "type": "address"},
        {"name": "party", "type": "address"},
        {"name": "role", "type": "string"},
        {"name": "bps", "type": "uint16"},
    ],
}


def sheet_hash(*, work_id: int, version: int, owner: str, parties: list[tuple[str, str, int]]) -> str:
    """keccak256 of the canonical sheet: who, in which role, for how many basis points."""
    canonical = json.dumps(
        {
            "work": work_id,
            "version": version,
            "owner": owner,
            "parties": sorted([address, role, int(bps)] for address, role, bps in parties),
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return to_hex(keccak(text=canonical))


def acceptance_typed_data(*, chain_id, work_id, content_hash, version, sheet_hash, owner, party, role, bps):
    return {
        "types": SPLIT_TYPES,
        "primaryType": "SplitAcceptance",
        "domain": {**SPLIT_DOMAIN, "chainId": chain_id},
        "message": {
            "workId": work_id,
            "contentHash": "0x" + content_hash,
            "version": version,
            "sheetHash": sheet_hash,
            "owner": owner,
            "party": party,
            "role": role,
            "bps": int(bps),
        },
    }
