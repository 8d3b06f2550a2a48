"""The LicenseMarket's messages (contracts/src/LicenseMarket.sol, domain version 2): the purchase
`Quote`, the one-transaction `Settlement` and a moderator's `EscrowDecision`, as EIP-712 typed
data, for licensing (quotes), royalties (settlements) and disputes (escrow) alike. Signing and
recovery live in `core.chain.eip712`."""

from core.chain.eip712 import DOMAIN_FIELDS_WITH_CONTRACT

# The uses a Quote buys (its `uses` bitmask): the licence itself, AI training, generative AI
# training. licensing.uses prices them under an offer's terms.
LICENCE, AI_TRAINING, GENAI_TRAINING = 1, 2, 4
ALL_USES = LICENCE | AI_TRAINING | GENAI_TRAINING
NAMES = {LICENCE: "licence", AI_TRAINING: "ai_training", GENAI_TRAINING: "genai_training"}
LABELS = {LICENCE: "Licence", AI_TRAINING: "AI training", GENAI_TRAINING: "Generative AI training"}


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
