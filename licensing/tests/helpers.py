"""Helpers for licensing tests: registered works with offers, funded wallets, paying quotes."""

from web3 import Web3

from licensing import services
from licensing.terms import PRESETS


def fund(w3, address, eth=100):
    w3.provider.make_request("anvil_setBalance", [address, hex(Web3.to_wei(eth, "ether"))])


def mint_stablecoin(w3, address, amount):
    """Give `address` some of the development chain's stablecoin (its owner is the sender key)."""
    from core.chain.keys import sender_account
    from core.chain.stablecoin import stablecoin

    token, owner = stablecoin(w3=w3), sender_account()
    tx = token.functions.mint(address, amount).build_transaction(
        {"from": owner.address, "nonce": w3.eth.get_transaction_count(owner.address, "pending")}
    )
    w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(owner.sign_transaction(tx).raw_transaction)
    )
    return token


def send_tx(w3, account, tx: dict):
    """Sign and send a transaction as the wallet would; returns the receipt (status may be 0)."""
    tx = dict(tx)
    tx.pop("from", None)
    tx["chainId"] = (
        int(tx.get("chainId", hex(w3.eth.chain_id)), 16)
        if isinstance(tx.get("chainId"), str)
        else (tx.get("chainId") or w3.eth.chain_id)
    )
    tx["value"] = int(tx["value"], 16) if isinstance(tx.get("value"), str) else tx.get("value", 0)
    tx["nonce"] = w3.eth.get_transaction_count(account.address, "pending")
    tx.setdefault("gas", 500_000)
    base = w3.eth.get_block("latest")["baseFeePerGas"]
    tx.setdefault("maxFeePerGas", 2 * base + 10**9)
    tx.setdefault("maxPriorityFeePerGas", 10**9)
    tx_hash = w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    return w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)


def offered_work(persona, *, w3, seed, preset="commercial_use", title=None):
    from tests.fixtures.chain import register_work

    work = register_work(persona, seed=seed, w3=w3, title=title)
    _, terms = PRESETS[preset]
    offer = services.offer_create(work=work, terms=terms, preset=preset)
    return work, offer


def mine(w3, blocks=1):
    for _ in range(blocks):
        w3.provider.make_request("evm_mine", [])


def index(w3) -> int:
    """Read the market's confirmed events and deliver them to every subscriber."""
    from core.chain.contracts import MARKET
    from core.chain.events import deliveries_run, events_index

    stored = events_index(contract_name=MARKET, w3=w3)
    deliveries_run()
    return stored


def buy(w3, offer, persona, *, mask=1, confirm=True):
    """persona buys `offer` (the uses in `mask`) with their wallet; the indexer sees it."""
    from django.conf import settings

    quote = services.quote_create(
        offer=offer, buyer=persona.user, buyer_address=persona.address, w3=w3, uses_mask=mask
    )
    receipt = send_tx(w3, persona.account, services.quote_transaction(quote=quote, w3=w3))
    assert receipt.status == 1, receipt
    if confirm:
        mine(w3, settings.CHAIN_CONFIRMATIONS)
        index(w3)
    return quote, receipt


def withdraw(w3, persona):
    from core.chain.contracts import MARKET, contract

    market = contract(w3=w3, name=MARKET)
    return send_tx(
        w3,
        persona.account,
        {"to": market.address, "data": market.encode_abi("withdraw", args=[]), "value": 0},
    )
