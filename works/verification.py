"""Checking a registration the way a third party would: signature, Merkle proof, on-chain root.

What is checked of a registration document (provenance.json):

1. The signed typed data is a `Registration` (its `primaryType`), in the portal's domain
   ("Creator IP Portal", on the chain the proof is anchored on), made by the document's
   creator: the recovered signer and `message.creator` are both that address.
2. The leaf is that registration: its digest is the typed data's digest, its address the
   creator, its content hash the work's sha256, and (version 2 leaves) its kind is 1.
3. The proof leads from the leaf to the root, and the registry at `contract_address` says the
   root is anchored; version 2 registries hash the leaf from its fields themselves
   (`verify(root, proof, kind, digest, signer, contentHash, time)`), so an internal node or a
   revocation can never pass for a registration.

A revocation is checked the same way with primaryType `Revocation` and kind 2.
"""

from dataclasses import asdict, dataclass

from web3 import Web3

from core.chain import registry as registry_gateway
from core.chain.eip712 import typed_data_digest, typed_data_signer
from core.chain.merkle import (
    LEAF_ENCODING,
    LEAF_REGISTRATION,
    LEAF_REVOCATION,
    LEAF_V1_ENCODING,
    leaf_hash,
    process_proof,
)
from works.eip712 import DOMAIN_NAME


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


@dataclass
class Leaf:
    encoding: list[str]
    kind: int | None  # None: a version 1 leaf (no kind)
    digest: bytes
    signer: str
    content_hash: bytes
    time: int

    @classmethod
    def parse(cls, value: list, encoding: list[str] | None) -> "Leaf":
        encoding = encoding or (LEAF_ENCODING if len(value) == 5 else LEAF_V1_ENCODING)
        if encoding == LEAF_ENCODING:
            kind, digest, signer, sha, time = value
            kind = int(kind)
        elif encoding == LEAF_V1_ENCODING:
            kind, (digest, signer, sha, time) = None, value
        else:
            raise ValueError(f"unknown leaf encoding {encoding}")
        return cls(
            encoding=encoding,
            kind=kind,
            digest=bytes.fromhex(digest[2:]),
            signer=Web3.to_checksum_address(signer),
            content_hash=bytes.fromhex(sha[2:]),
            time=int(time),
        )

    def values(self) -> list:
        fields = [self.digest, self.signer, self.content_hash, self.time]
        return [self.kind, *fields] if self.kind is not None else fields

    def hash(self) -> bytes:
        return leaf_hash(self.encoding, self.values())

    def anchored(self, w3: Web3, *, registry: str, root: bytes, proof: list[bytes]) -> bool:
        if self.kind is None:  # version 1: the registry took the leaf hash as given
            return registry_gateway.leaf_hash_verified(
                w3=w3, address=registry, root=root, proof=proof, leaf=self.hash()
            )
        return registry_gateway.leaf_verified(
            w3=w3, address=registry, root=root, proof=proof, leaf_values=self.values()
        )


def _typed_data_is(typed: dict, *, primary_type: str, chain_id) -> bool:
    domain = typed.get("domain", {})
    return (
        typed.get("primaryType") == primary_type
        and domain.get("name") == DOMAIN_NAME
        and (chain_id is None or int(domain.get("chainId", -1)) == int(chain_id))
    )


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
        typed = revocation["eip712"]
        signer = typed_data_signer(typed, revocation["signature"])
        message = typed["message"]
        signed = (
            _typed_data_is(typed, primary_type="Revocation", chain_id=None)
            and signer == Web3.to_checksum_address(revocation["signer"])
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
    try:
        leaf = Leaf.parse(value, revocation["leaf"].get("encoding"))
    except (ValueError, TypeError):
        check.revocation_anchored = False
        return
    proof = [bytes.fromhex(p[2:]) for p in revocation["proof"]]
    if (
        Web3.to_hex(leaf.digest) != typed_data_digest(typed)
        or leaf.signer != signer
        or leaf.kind not in (None, LEAF_REVOCATION)
        or process_proof(leaf.hash(), proof) != bytes.fromhex(root[2:])
    ):
        check.revocation_anchored = False
        return
    if w3 is not None:
        try:
            registry = revocation.get("contract_address") or document["contract_address"]
            check.revocation_anchored = leaf.anchored(
                w3, registry=registry, root=bytes.fromhex(root[2:]), proof=proof
            )
        except Exception:
            check.revocation_anchored = None


def _registration_check(document: dict, *, w3: Web3 | None) -> Check:
    signer = None
    creator = Web3.to_checksum_address(document["creator"])
    typed = document["eip712"]
    try:
        signer = typed_data_signer(typed, document["signature"])
        signature_ok = (
            signer == creator
            and _typed_data_is(typed, primary_type="Registration", chain_id=document.get("chain_id"))
            and Web3.to_checksum_address(typed["message"]["creator"]) == creator
        )
    except Exception:
        signature_ok = False
    value = document["leaf"]["value"]
    if not value or not document.get("root"):
        return Check(signature_ok, signer, False, False, None, "not anchored yet")
    try:
        leaf = Leaf.parse(value, document["leaf"].get("encoding"))
    except (ValueError, TypeError):
        return Check(signature_ok, signer, False, False, None, "the leaf is not a registration leaf")
    hashed = leaf.hash()
    leaf_ok = (
        Web3.to_hex(hashed) == document["leaf"]["hash"]
        and Web3.to_hex(leaf.digest) == typed_data_digest(typed)
        and leaf.signer == creator
        and leaf.content_hash.hex() == document["work"]["sha256"]
        and leaf.kind in (None, LEAF_REGISTRATION)
    )
    proof = [bytes.fromhex(p[2:]) for p in document["proof"]]
    root = bytes.fromhex(document["root"][2:])
    proof_ok = process_proof(hashed, proof) == root
    onchain_ok, error = None, ""
    if w3 is not None:
        try:
            if w3.eth.chain_id != document["chain_id"]:
                raise ValueError(
                    f"the node is on chain {w3.eth.chain_id}, the proof on {document['chain_id']}"
                )
            onchain_ok = leaf.anchored(w3, registry=document["contract_address"], root=root, proof=proof)
        except Exception as exc:
            error = f"could not ask the chain: {exc}"
    return Check(signature_ok, signer, leaf_ok, proof_ok, onchain_ok, error)
