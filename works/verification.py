"""Checking a registration the way a third party would: signature, Merkle proof, on-chain root."""

from dataclasses import asdict, dataclass

from web3 import Web3

from portal.chain.contracts import REGISTRY, artifact
from portal.chain.eip712 import typed_data_digest, typed_data_signer
from portal.chain.merkle import LEAF_ENCODING, leaf_hash, process_proof


@dataclass
class Check:
    signature_ok: bool
    signer: str | None
    leaf_ok: bool
    proof_ok: bool
    onchain_ok: bool | None  # None: the chain could not be asked
    onchain_error: str = ""

    @property
    def ok(self) -> bool:
        return self.signature_ok and self.leaf_ok and self.proof_ok and self.onchain_ok is True

    def as_dict(self):
        return {**asdict(self), "ok": self.ok}


def _decode_value(value: list) -> list:
    digest, creator, sha, timestamp = value
    return [
        bytes.fromhex(digest[2:]),
        Web3.to_checksum_address(creator),
        bytes.fromhex(sha[2:]),
        int(timestamp),
    ]


def provenance_check(document: dict, *, w3: Web3 | None) -> Check:
    """Verify a provenance.json document; ask the chain when `w3` is given."""
    signer = None
    try:
        signer = typed_data_signer(document["eip712"], document["signature"])
        signature_ok = signer == Web3.to_checksum_address(document["creator"])
    except Exception:
        signature_ok = False
    value = document["leaf"]["value"]
    if not value or not document.get("root"):
        return Check(signature_ok, signer, False, False, None, "not anchored yet")
    decoded = _decode_value(value)
    leaf = leaf_hash(LEAF_ENCODING, decoded)
    leaf_ok = (
        Web3.to_hex(leaf) == document["leaf"]["hash"]
        and Web3.to_hex(decoded[0]) == typed_data_digest(document["eip712"])
        and decoded[2].hex() == document["work"]["sha256"]
    )
    proof = [bytes.fromhex(p[2:]) for p in document["proof"]]
    root = bytes.fromhex(document["root"][2:])
    proof_ok = process_proof(leaf, proof) == root
    onchain_ok, error = None, ""
    if w3 is not None:
        try:
            registry = w3.eth.contract(address=document["contract_address"], abi=artifact(REGISTRY)["abi"])
            if w3.eth.chain_id != document["chain_id"]:
                raise ValueError(
                    f"the node is on chain {w3.eth.chain_id}, the proof on {document['chain_id']}"
                )
            onchain_ok = bool(registry.functions.verify(root, proof, leaf).call())
        except Exception as exc:
            error = f"could not ask the chain: {exc}"
    return Check(signature_ok, signer, leaf_ok, proof_ok, onchain_ok, error)
