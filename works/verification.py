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

A work registered in a portfolio (works/portfolios.py) was not signed alone: its creator signed
one EIP-712 `Portfolio` naming the Merkle root of many registrations' digests. Step 1 then checks
that signature over that message, and that this registration's digest is a leaf under its root
(the document's `portfolio.proof`, OpenZeppelin StandardMerkleTree, leaf encoding ["bytes32"]).

A smart-contract account's signature is checked on chain (ERC-1271, or ERC-6492 before the
account is deployed) at the block the portal checked it at (`signature_block`).

A revocation is checked the same way with primaryType `Revocation` and kind 2.
"""

from dataclasses import asdict, dataclass

from eth_account.messages import encode_typed_data
from web3 import Web3
from web3.exceptions import Web3RPCError

from core.chain import registry as registry_gateway
from core.chain.accounts import EOA, KINDS
from core.chain.eip712 import typed_data_digest, typed_data_signer
from core.chain.merkle import (
    LEAF_ENCODING,
    LEAF_REGISTRATION,
    LEAF_REVOCATION,
    LEAF_V1_ENCODING,
    leaf_hash,
    process_proof,
)
from core.chain.signatures import ECDSA_LENGTH, SignatureUnverifiable, signature_bytes, signature_check
from works.eip712 import DOMAIN_NAME, PORTFOLIO_LEAF_ENCODING


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
    signer_kind: str = EOA  # core/chain/accounts.py
    signature_block: int | None = None  # where the chain confirmed a contract account's signature

    @property
    def ok(self) -> bool:
        return (
            self.signature_ok
            and self.leaf_ok
            and self.proof_ok
            and self.onchain_ok is True
            and not self.revoked
        )

    @property
    def signer_kind_label(self) -> str:
        return KINDS[self.signer_kind]

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
    creator = Web3.to_checksum_address(document["creator"])
    typed = document["eip712"]
    try:
        shaped = (
            _typed_data_is(typed, primary_type="Registration", chain_id=document.get("chain_id"))
            and Web3.to_checksum_address(typed["message"]["creator"]) == creator
        )
        portfolio = document.get("portfolio")
        if portfolio:  # one signature over the root of many registrations; this one's proof
            shaped = shaped and _portfolio_covers(
                portfolio, typed, creator, chain_id=document.get("chain_id")
            )
            signed = _signed_by(portfolio["eip712"], document["signature"], creator, document=document, w3=w3)
        else:
            signed = _signed_by(typed, document["signature"], creator, document=document, w3=w3)
    except Exception:
        shaped, signed = False, Signed(None, EOA, None)
    signature_ok = shaped and signed.signer == creator
    check = _anchor_check(document, typed, creator, w3=w3)
    check.signature_ok, check.signer = signature_ok, signed.signer
    check.signer_kind, check.signature_block = signed.kind, signed.block
    if signed.note and not check.onchain_error:
        check.onchain_error = signed.note
    return check


def _portfolio_covers(portfolio: dict, typed: dict, creator: str, *, chain_id) -> bool:
    """The portfolio message is the creator's, in the portal's domain, and names a root under
    which this registration's digest is a leaf."""
    signed = portfolio["eip712"]
    message = signed["message"]
    root = bytes.fromhex(message["registrationsRoot"][2:])
    digest = Web3.to_bytes(hexstr=typed_data_digest(typed))
    proof = [bytes.fromhex(p[2:]) for p in portfolio["proof"]]
    return (
        _typed_data_is(signed, primary_type="Portfolio", chain_id=chain_id)
        and Web3.to_checksum_address(message["creator"]) == creator
        and process_proof(leaf_hash(PORTFOLIO_LEAF_ENCODING, [digest]), proof) == root
    )


@dataclass
class Signed:
    signer: str | None  # the creator when they signed; an EOA signature by another key names it
    kind: str
    block: int | None
    note: str = ""


ERR_CONTRACT_OFFLINE = (
    "the registration was signed by a smart-contract account: its signature can only be checked "
    "on chain (give an RPC URL)"
)


def _signed_by(typed: dict, signature: str, creator: str, *, document: dict, w3: Web3 | None) -> Signed:
    """Who made the registration's signature. An EOA's is recovered offline; a smart-contract
    account's is asked of the chain at the block the portal checked it at (the account may have
    changed owners since), or at the newest block when the node keeps no state that old."""
    recovered = None
    if len(signature_bytes(signature) or b"") == ECDSA_LENGTH:
        recovered = typed_data_signer(typed, signature)
        if recovered == creator:
            return Signed(creator, EOA, None)
    kind = document.get("signer_kind") or EOA
    if w3 is None:
        note = ERR_CONTRACT_OFFLINE if kind != EOA else ""
        return Signed(recovered, kind, document.get("signature_block"), note)
    message = encode_typed_data(full_message=typed)
    try:
        check = signature_check(
            signer=creator, message=message, signature=signature, w3=w3, block=document.get("signature_block")
        )
    except (SignatureUnverifiable, ValueError, Web3RPCError):  # a pruned node: no state at that block
        check = signature_check(signer=creator, message=message, signature=signature, w3=w3)
    return Signed(creator if check.valid else recovered, check.kind, check.block)


def _anchor_check(document: dict, typed: dict, creator: str, *, w3: Web3 | None) -> Check:
    signature_ok, signer = False, None
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
