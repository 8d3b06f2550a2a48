"""Why a transaction reverted, in words: replay it as a call at its block and decode the
contract's custom error against the ABI."""

from web3 import Web3

from core.chain.contracts import artifact

# What a buyer or creator can do about each error of our contracts.
EXPLANATIONS = {
    "WrongBuyer": "The payment came from another wallet than the one this quote was made for.",
    "QuoteExpired": "The quote expired before the payment was mined; get a fresh quote.",
    "WrongPrice": "The amount sent was not the quoted price.",
    "QuoteAlreadyUsed": "This quote has already been paid.",
    "OfferWithdrawn": "The creator withdrew this offer; nothing was charged.",
    "BadSignature": "The quote's signature did not check out; get a fresh quote.",
    "BadSplit": "The quote's split was refused by the contract; get a fresh quote.",
    "BadUses": "The quote names no valid use; get a fresh quote.",
    "NothingToWithdraw": "There was nothing to withdraw.",
    "AlreadyClaimed": "That allocation was already claimed.",
    "BadProof": "A claim's proof did not match its settlement.",
    "UnknownSettlement": "That settlement is not on chain.",
    "TransferFailed": "The wallet refused the transfer.",
    "SalesPaused": "Sales of this work are paused while its registration is disputed; nothing was charged.",
    "StaleSettlement": (
        "A registration dispute was opened after this was signed; nothing was charged. Get a fresh quote."
    ),
    "EnforcedPause": "The market is paused for maintenance; nothing was charged. Try again later.",
    "Overdrawn": "That claim asks for more than its settlement holds.",
    "BadRecipient": "Escrow cannot go to that address.",
    "BadDecision": "Escrow can only go elsewhere with a moderator's signed decision.",
    "AccessControlUnauthorizedAccount": "That key is not allowed to do this.",
}
UNKNOWN = "The transaction reverted without a reason the portal recognises."


def error_selectors(contract_name: str) -> dict[str, str]:
    """0x-prefixed 4-byte selector -> error name, for every custom error in the ABI."""
    selectors = {}
    for item in artifact(contract_name)["abi"]:
        if item["type"] == "error":
            signature = f"{item['name']}({','.join(i['type'] for i in item['inputs'])})"
            selectors[Web3.to_hex(Web3.keccak(text=signature)[:4])] = item["name"]
    return selectors


def revert_error(w3: Web3, tx_hash: str, *, contract_name: str) -> str | None:
    """The custom error name a mined, reverted transaction hit, or None if it cannot be told."""
    tx = w3.eth.get_transaction(tx_hash)
    receipt = w3.eth.get_transaction_receipt(tx_hash)
    call = {"from": tx["from"], "to": tx["to"], "data": tx["input"], "value": tx["value"], "gas": tx["gas"]}
    try:
        w3.eth.call(call, receipt["blockNumber"] - 1 if receipt["blockNumber"] else "latest")
        w3.eth.call(call, receipt["blockNumber"])
    except Exception as exc:  # web3 raises ContractCustomError / Web3RPCError carrying the data
        text = " ".join(str(a) for a in (getattr(exc, "data", None), *exc.args))
        for selector, name in error_selectors(contract_name).items():
            if selector in text:
                return name
    return None


def revert_reason(w3: Web3, tx_hash: str, *, contract_name: str) -> str:
    name = revert_error(w3, tx_hash, contract_name=contract_name)
    return EXPLANATIONS.get(name, UNKNOWN) if name else UNKNOWN
