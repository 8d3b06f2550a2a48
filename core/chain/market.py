"""The LicenseMarket's messages (contracts/src/LicenseMarket.sol, domain version 2): the purchase
`Quote`, the one-transaction `Settlement` and a moderator's `EscrowDecision`, as EIP-712 typed
data, for licensing (quotes), royalties (settlements) and disputes (escrow) alike. Signing and
recovery live in `core.chain.eip712`."""

from web3 import Web3

from core.chain.contracts import MARKET, contract, deployed_markets, market_at
from core.chain.eip712 import DOMAIN_FIELDS_WITH_CONTRACT

# The uses a Quote buys (its `uses` bitmask): the licence itself, AI training, generative AI
# training. licensing.uses prices them under an offer's terms.
LICENCE, AI_TRAINING, GENAI_TRAINING = 1, 2, 4
ALL_USES = LICENCE | AI_TRAINING | GENAI_TRAINING
NAMES = {LICENCE: "licence", AI_TRAINING: "ai_training", GENAI_TRAINING: "genai_training"}
# AI use of one fetched copy (an agent or crawler paying per fetch with x402): bought only by a
# TokenQuote paid with an EIP-3009 authorisation, never through the licence quote form.
AI_FETCH = 8
LABELS = {
    LICENCE: "Licence",
    AI_TRAINING: "AI training",
    GENAI_TRAINING: "Generative AI training",
    AI_FETCH: "AI use per fetch",
}


def names_of(mask: int) -> list[str]:
    """The uses in a bitmask, by name ("licence", "ai_training", ...)."""
    return [NAMES[bit] for bit in NAMES if mask & bit]


def labels_of(mask: int) -> list[str]:
    """The uses in a bitmask, as people read them."""
    return [LABELS[bit] for bit in LABELS if mask & bit]


MARKET_DOMAIN = {"name": "Creator IP Portal Market", "version": "2"}
QUOTE_TYPES = {
    "EIP712Domain": DOMAIN_FIELDS_WITH_CONTRACT,
    "Quote": [
        {"name": "quoteId", "type": "bytes32"},
        {"name": "workId", "type": "uint256"},
        {"name": "termsHash", "type": "bytes32"},
        {"name": "offerId", "type": "bytes32"},
        {"name": "uses", "type": "uint8"},
        {"name": "buyer", "type": "address"},
        {"name": "price", "type": "uint256"},
        {"name": "payees", "type": "address[]"},
        {"name": "amounts", "type": "uint256[]"},
        {"name": "expiry", "type": "uint64"},
    ],
}
# A quote paid in an ERC-20: the same fields, the token named after the uses (TOKEN_QUOTE_TYPEHASH).
_QUOTE_FIELDS = QUOTE_TYPES["Quote"]
_AFTER_USES = [f["name"] for f in _QUOTE_FIELDS].index("uses") + 1
TOKEN_QUOTE_TYPES = {
    "EIP712Domain": DOMAIN_FIELDS_WITH_CONTRACT,
    "TokenQuote": [
        *_QUOTE_FIELDS[:_AFTER_USES],
        {"name": "token", "type": "address"},
        *_QUOTE_FIELDS[_AFTER_USES:],
    ],
}
SETTLEMENT_TYPES = {
    "EIP712Domain": DOMAIN_FIELDS_WITH_CONTRACT,
    "Settlement": [
        {"name": "settlementId", "type": "bytes32"},
        {"name": "root", "type": "bytes32"},
        {"name": "buyer", "type": "address"},
        {"name": "price", "type": "uint256"},
        {"name": "expiry", "type": "uint64"},
        {"name": "disputeEpoch", "type": "uint64"},
    ],
}
# A settlement paid in an ERC-20: the same fields, the token named after the root.
_SETTLEMENT_FIELDS = SETTLEMENT_TYPES["Settlement"]
TOKEN_SETTLEMENT_TYPES = {
    "EIP712Domain": DOMAIN_FIELDS_WITH_CONTRACT,
    "TokenSettlement": [
        *_SETTLEMENT_FIELDS[:2],
        {"name": "token", "type": "address"},
        *_SETTLEMENT_FIELDS[2:],
    ],
}
ESCROW_DECISION_TYPES = {
    "EIP712Domain": DOMAIN_FIELDS_WITH_CONTRACT,
    "EscrowDecision": [
        {"name": "settlementId", "type": "bytes32"},
        {"name": "index", "type": "uint256"},
        {"name": "to", "type": "address"},
    ],
}


def quote_typed_data(
    *, chain_id, market, quote_id, work_id, terms_hash, offer_id, uses, buyer, price, payees, amounts, expiry
):
    return {
        "types": QUOTE_TYPES,
        "primaryType": "Quote",
        "domain": {**MARKET_DOMAIN, "chainId": chain_id, "verifyingContract": market},
        "message": {
            "quoteId": quote_id,
            "workId": work_id,
            "termsHash": terms_hash,
            "offerId": offer_id,
            "uses": int(uses),
            "buyer": buyer,
            "price": int(price),
            "payees": list(payees),
            "amounts": [int(a) for a in amounts],
            "expiry": expiry,
        },
    }


def token_quote_typed_data(*, chain_id, market, token, **quote):
    """A Quote priced in an ERC-20 token (the same fields as quote_typed_data's, and the token)."""
    typed = quote_typed_data(chain_id=chain_id, market=market, **quote)
    message = typed["message"]
    return {
        "types": TOKEN_QUOTE_TYPES,
        "primaryType": "TokenQuote",
        "domain": typed["domain"],
        "message": {
            **{k: message[k] for k in ("quoteId", "workId", "termsHash", "offerId", "uses")},
            "token": token,
            **{k: message[k] for k in ("buyer", "price", "payees", "amounts", "expiry")},
        },
    }


def settlement_typed_data(*, chain_id, market, settlement_id, root, buyer, price, expiry, dispute_epoch):
    return {
        "types": SETTLEMENT_TYPES,
        "primaryType": "Settlement",
        "domain": {**MARKET_DOMAIN, "chainId": chain_id, "verifyingContract": market},
        "message": {
            "settlementId": settlement_id,
            "root": root,
            "buyer": buyer,
            "price": int(price),
            "expiry": expiry,
            "disputeEpoch": int(dispute_epoch),
        },
    }


def token_settlement_typed_data(*, token: str, **fields) -> dict:
    """The settlement of `settlement_typed_data(**fields)`, paid in `token` (TOKEN_SETTLEMENT_TYPEHASH)."""
    typed = settlement_typed_data(**fields)
    message = typed["message"]
    return {
        "types": TOKEN_SETTLEMENT_TYPES,
        "primaryType": "TokenSettlement",
        "domain": typed["domain"],
        "message": {
            **{k: message[k] for k in ("settlementId", "root")},
            "token": token,
            **{k: message[k] for k in ("buyer", "price", "expiry", "disputeEpoch")},
        },
    }


def escrow_decision_typed_data(*, chain_id, market, settlement_id, index, to):
    """A moderator's decision that an escrowed share goes to `to` (e.g. the rightful creator)."""
    return {
        "types": ESCROW_DECISION_TYPES,
        "primaryType": "EscrowDecision",
        "domain": {**MARKET_DOMAIN, "chainId": chain_id, "verifyingContract": market},
        "message": {"settlementId": settlement_id, "index": int(index), "to": to},
    }


# Version 1 of the market (contracts/src/v1/LicenseMarketV1.sol): its domain was version "1"
# and its Settlement carried no dispute epoch. Payloads signed before the upgrade stay stored
# as they were; these build new ones for it (tests and benchmarks against version 1).
MARKET_V1_DOMAIN = {"name": "Creator IP Portal Market", "version": "1"}
SETTLEMENT_V1_TYPES = {
    "EIP712Domain": DOMAIN_FIELDS_WITH_CONTRACT,
    "Settlement": [field for field in SETTLEMENT_TYPES["Settlement"] if field["name"] != "disputeEpoch"],
}


def quote_v1_typed_data(typed: dict) -> dict:
    return {**typed, "domain": {**typed["domain"], **MARKET_V1_DOMAIN}}


def settlement_v1_typed_data(typed: dict) -> dict:
    message = {k: v for k, v in typed["message"].items() if k != "disputeEpoch"}
    return {
        **typed,
        "types": SETTLEMENT_V1_TYPES,
        "domain": {**typed["domain"], **MARKET_V1_DOMAIN},
        "message": message,
    }


# ---------------------------------------------------------------- the contract itself
# Every read of a LicenseMarket and every call made to one goes through these (licensing's
# purchases and offer revocations, royalties' settlements, withdrawals and reconciliation,
# disputes' pauses and escrow releases). `address` names the market a quote or settlement was
# signed for (version 1 or 2); None means the current one.


def market(*, w3: Web3, address: str | None = None):
    """The web3 contract of a market, with its version's ABI."""
    return market_at(w3=w3, address=address) if address else contract(w3=w3, name=MARKET)


def markets(*, w3: Web3) -> list:
    """Every market this portal has money in (version 2, and version 1 where deployed)."""
    return deployed_markets(w3=w3)


def _call(w3: Web3, address: str | None, function: str, args: list) -> tuple[str, str]:
    m = market(w3=w3, address=address)
    return m.address, m.encode_abi(function, args=args)


def dispute_epoch(*, w3: Web3, address: str | None = None) -> int:
    """The market's dispute epoch: pausing any work's sales moves it (settlements signed in an
    earlier epoch go stale)."""
    return int(market(w3=w3, address=address).functions.disputeEpoch().call())


def purchase_call(*, w3: Web3, address: str, quote_args: tuple, signature: str) -> tuple[str, str]:
    return _call(w3, address, "purchase", [quote_args, bytes.fromhex(signature[2:])])


def purchase_with_permit_call(
    *, w3: Web3, address: str, quote_args: tuple, signature: str, deadline: int, permit: str
) -> tuple[str, str]:
    """`purchaseWithPermit(TokenQuote, signature, deadline, v, r, s)`: the buyer's EIP-2612
    permit for the price and the payment in one transaction."""
    args = [quote_args, bytes.fromhex(signature[2:]), int(deadline), *_permit_vrs(permit)]
    return _call(w3, address, "purchaseWithPermit", args)


def _permit_vrs(permit: str) -> tuple[int, bytes, bytes]:
    """A 65-byte permit signature (r, s, v) as the (v, r, s) the permit functions take."""
    raw = bytes.fromhex(permit[2:])
    v = raw[64]
    return (v + 27 if v < 27 else v), raw[:32], raw[32:64]


def settle_call(*, w3: Web3, address: str, settlement_args: tuple, signature: str) -> tuple[str, str]:
    return _call(w3, address, "settle", [settlement_args, bytes.fromhex(signature[2:])])


def settle_with_token_call(
    *, w3: Web3, address: str, settlement_args: tuple, signature: str
) -> tuple[str, str]:
    """A TokenSettlement paid from the buyer's allowance (approve the price first)."""
    return _call(w3, address, "settleWithToken", [settlement_args, bytes.fromhex(signature[2:])])


def settle_with_permit_call(
    *, w3: Web3, address: str, settlement_args: tuple, signature: str, deadline: int, permit: str
) -> tuple[str, str]:
    """`settleWithPermit(TokenSettlement, signature, deadline, v, r, s)`: the buyer's EIP-2612
    permit for the price and the payment in one transaction."""
    args = [settlement_args, bytes.fromhex(signature[2:]), int(deadline), *_permit_vrs(permit)]
    return _call(w3, address, "settleWithPermit", args)


def revoke_offer_call(*, w3: Web3, offer_key: str) -> tuple[str, str]:
    return _call(w3, None, "revokeOffer", [bytes.fromhex(offer_key[2:])])


def set_work_paused_call(*, w3: Web3, work_id: int, paused: bool) -> tuple[str, str]:
    return _call(w3, None, "setWorkPaused", [work_id, paused])


def release_escrow_call(*, w3: Web3, address: str, args: list) -> tuple[str, str]:
    """`releaseEscrow` with its version's arguments (v1: id, index, amount, proof, to; v2: the
    leaf, proof, to and the moderation key's decision)."""
    return _call(w3, address, "releaseEscrow", args)


def withdraw_call(*, w3: Web3, address: str, claims: list) -> tuple[str, str]:
    """Claim these allocations and withdraw the whole balance in one call (a plain withdraw
    when there is nothing to claim)."""
    return _call(w3, address, "claimAndWithdraw", [claims]) if claims else _call(w3, address, "withdraw", [])


# Reads over many payees take the contract from `markets()` once (no address lookup per call).


def balance_of(*, contract, payee: str, block="latest") -> int:
    return int(contract.functions.balanceOf(payee).call(block_identifier=block))


def is_claimed(*, contract, settlement_id: bytes, index: int) -> bool:
    return bool(contract.functions.isClaimed(settlement_id, index).call())


def totals(*, contract, block="latest") -> tuple[int, int]:
    """(totalCredited, totalUnclaimed) of a market at a block."""
    functions = contract.functions
    return (
        int(functions.totalCredited().call(block_identifier=block)),
        int(functions.totalUnclaimed().call(block_identifier=block)),
    )
