"""Who signed: every signature a wallet gives the portal, whatever kind of account made it.

A wallet is either an EOA (a key: the signature is recovered with ecrecover, offline) or a
smart-contract account (Safe, Coinbase Smart Wallet, an ERC-4337 account): a deployed one answers
ERC-1271 `isValidSignature(hash, signature)`, and one not deployed yet wraps its signature as
ERC-6492 defines (`abi.encode(factory, factoryCalldata, signature) ++ 0x6492…6492`). The order is
ERC-6492's: a wrapped signature is checked against the account as its factory would deploy it (or
as deployed, when it already is); otherwise ERC-1271 when the address has code; otherwise ecrecover.

The chain is asked with one `eth_call` of the never-deployed `UniversalSignatureCheck` contract
(its constructor returns 0x01 or 0x00): no transaction, nothing kept. The answer holds at a block:
a contract account can change its owners later, so the check records the block it was made at,
and a third party asks again at that block.
"""

import re
from dataclasses import dataclass

from eth_abi import encode
from eth_account import Account
from eth_account.messages import SignableMessage, _hash_eip191_message
from web3 import Web3
from web3.exceptions import ContractLogicError, Web3RPCError

from core.chain.accounts import CONTRACT, COUNTERFACTUAL, EOA, KINDS
from core.chain.client import get_web3
from core.chain.contracts import artifact
from core.errors import CHAIN_ERRORS, PortalError

__all__ = [
    "CONTRACT",
    "COUNTERFACTUAL",
    "EOA",
    "KINDS",
    "SignatureCheck",
    "SignatureUnverifiable",
    "signature_check",
]

ERC6492_SUFFIX = bytes.fromhex("6492" * 16)
ECDSA_LENGTH = 65
VALIDATOR = "UniversalSignatureCheck"
# A wrapped signature names any factory and calldata: the call that checks it gets this much gas
# and no more, so a signature cannot make the node run long.
VALIDATION_GAS = 3_000_000
_HEX = re.compile(r"0x(?:[0-9a-fA-F]{2})+")

# The node is down, or cannot answer for that block (a pruned or lagging node behind a balancer).
UNANSWERED = (*CHAIN_ERRORS, Web3RPCError)
ERR_UNVERIFIABLE = (
    "This signature comes from a smart-contract account, which only the chain can check, and the "
    "chain is not reachable right now; try again in a moment."
)


class SignatureUnverifiable(PortalError):
    """A contract account's signature, and no chain to ask."""

    status = 503
    code = "chain_unavailable"


@dataclass(frozen=True)
class SignatureCheck:
    valid: bool
    kind: str  # EOA, CONTRACT or COUNTERFACTUAL
    block: int | None = None  # the block the chain answered at (None: recovered offline)

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]


def signature_bytes(signature) -> bytes | None:
    """The signature's bytes, or None when it is not 0x-prefixed hex of whole bytes."""
    if isinstance(signature, bytes | bytearray):
        return bytes(signature)
    if not isinstance(signature, str) or not _HEX.fullmatch(signature):
        return None
    return bytes.fromhex(signature[2:])


def is_wrapped(signature: bytes) -> bool:
    return len(signature) > 32 and signature[-32:] == ERC6492_SUFFIX


def _recovers_to(message: SignableMessage, signature: bytes, signer: str) -> bool:
    if len(signature) != ECDSA_LENGTH:
        return False
    try:
        return Account.recover_message(message, signature=signature) == signer
    except Exception:  # eth-keys rejects impossible v/r/s values with assorted errors
        return False


def _validator_call(w3: Web3, *, signer: str, digest: bytes, signature: bytes, block: int) -> bool:
    data = Web3.to_bytes(hexstr=artifact(VALIDATOR)["bytecode"]) + encode(
        ["address", "bytes32", "bytes"], [signer, digest, signature]
    )
    try:
        answer = w3.eth.call({"data": Web3.to_hex(data), "gas": VALIDATION_GAS}, block_identifier=block)
    except ContractLogicError:  # a revert inside the account's own code: not a valid signature
        return False
    return bytes(answer) == b"\x01"


def signature_check(
    *, signer: str, message: SignableMessage, signature, w3: Web3 | None = None, block: int | None = None
) -> SignatureCheck:
    """Check that `signer` made `signature` over `message` (EIP-191 or EIP-712, as signable).

    An EOA's signature is recovered offline and needs no chain. Anything else asks the chain at
    `block` (default: the newest); when the chain cannot be asked, a signature of 65 bytes or fewer
    that does not recover is refused as an EOA's would be (what smart-contract accounts sign is
    longer, or ERC-6492-wrapped), and any other raises `SignatureUnverifiable`.
    """
    signer = Web3.to_checksum_address(signer)
    raw = signature_bytes(signature)
    if raw is None:
        return SignatureCheck(False, EOA)
    wrapped = is_wrapped(raw)
    if not wrapped and _recovers_to(message, raw, signer):
        return SignatureCheck(True, EOA)
    try:
        w3 = w3 or get_web3()
        at = w3.eth.block_number if block is None else block
        has_code = bool(w3.eth.get_code(signer, block_identifier=at))
        if not wrapped and not has_code:
            return SignatureCheck(False, EOA, at)
        kind = CONTRACT if has_code else COUNTERFACTUAL
        digest = _hash_eip191_message(message)
        return SignatureCheck(
            _validator_call(w3, signer=signer, digest=digest, signature=raw, block=at), kind, at
        )
    except UNANSWERED as exc:
        if not wrapped and len(raw) <= ECDSA_LENGTH:
            return SignatureCheck(False, EOA)
        raise SignatureUnverifiable(ERR_UNVERIFIABLE) from exc
