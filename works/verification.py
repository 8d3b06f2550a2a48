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
    revoked: bool = False  # the document carries a revocation signed by its signer
    revocation_anchored: bool | None = None  # its leaf proven on chain (None: not asked / not yet)
    revoked_at: int | None = None
    revocation_reason: str = ""

    @property
    def ok(self) -> bool:
        return (
            self.signature_ok
            and self.leaf_ok
            and self.proof_ok
            and self.onchain_ok is True
            and not self.revoked
        )

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
    """Verify a provenance.json document; ask the chain when `w3` is given. A registration with
    a validly signed revocation of its digest is reported revoked (never ok)."""
    check = _registration_check(document, w3=w3)
    revocation = document.get("revocation")
    if revocation:
        _revocation_check(document, revocation, check, w3=w3)
    return check


def _revocation_check(document: dict, revocation: dict, check: Check, *, w3: Web3 | None) -> None:
    try:
        signer = typed_data_signer(revocation["eip712"], revocation["signature"])
        message = revocation["eip712"]["message"]
        signed = (
            signer == Web3.to_checksum_address(revocation["signer"])
            and message["registrationDigest"] == document.get("digest")
            and message["contentHash"] == "0x" + document["work"]["sha256"]
        )
    except Exception:
        signed = False
    if not signed:
        return  # a revocation nobody signed revokes nothing
    check.revoked = True
    check.revoked_at = int(revocation["revoked_at"])
    check.revocation_reason = revocation.get("reason", "")
    value, root = revocation["leaf"]["value"], revocation.get("root")
    if not value or not root:
        return
    decoded = _decode_value(value)
    leaf = leaf_hash(LEAF_ENCODING, decoded)
    proof = [bytes.fromhex(p[2:]) for p in revocation["proof"]]
    if Web3.to_hex(decoded[0]) != typed_data_digest(revocation["eip712"]) or process_proof(
        leaf, proof
    ) != bytes.fromhex(root[2:]):
        check.revocation_anchored = False
        return
    if w3 is not None:
        try:
            registry = w3.eth.contract(address=document["contract_address"], abi=artifact(REGISTRY)["abi"])
            check.revocation_anchored = bool(
                registry.functions.verify(bytes.fromhex(root[2:]), proof, leaf).call()
            )
        except Exception:
            check.revocation_anchored = None


def _registration_check(document: dict, *, w3: Web3 | None) -> Check:
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
