"""LicenseMarket on a real anvil: checks, credits, pull payments, reentrancy."""

import time

import pytest
from django.conf import settings
from eth_account import Account
from web3 import Web3
from web3.logs import DISCARD

from licensing import eip712, services
from licensing.tests.helpers import fund, offered_work, send_tx
from portal.chain.contracts import MARKET, artifact, contract

pytestmark = pytest.mark.anvil


@pytest.fixture
def setup(chain, creator, buyer):
    fund(chain, buyer.address)
    fund(chain, creator.address)
    work, offer = offered_work(creator, w3=chain, seed=400)
    return chain, work, offer


def _quote(offer, buyer, w3):
    return services.quote_create(offer=offer, buyer=buyer.user, buyer_address=buyer.address, w3=w3)


def _error_name(w3, receipt, tx):
    """Replay a failed transaction as a call to read its custom error."""
    market = contract(w3=w3, name=MARKET)
    try:
        call = {k: v for k, v in tx.items() if k in ("to", "data", "value")}
        w3.eth.call({**call, "from": receipt["from"]}, receipt.blockNumber)
    except Exception as exc:  # ContractCustomError carries the 4-byte selector
        data = getattr(exc, "data", None) or (exc.args[1] if len(exc.args) > 1 else str(exc))
        for abi in market.abi:
            if abi["type"] == "error":
                selector = Web3.keccak(text=f"{abi['name']}({','.join(i['type'] for i in abi['inputs'])})")[
                    :4
                ]
                if Web3.to_hex(selector) in str(data):
                    return abi["name"]
        return str(data)
    return None


def test_a_purchase_credits_creator_and_platform_and_emits_events(setup, buyer):
    w3, work, offer = setup
    quote = _quote(offer, buyer, w3)
    receipt = send_tx(w3, buyer.account, services.quote_transaction(quote=quote, w3=w3))
    assert receipt.status == 1

    market = contract(w3=w3, name=MARKET)
    price = int(quote.price_wei)
    platform_share = price * settings.PLATFORM_FEE_BPS // 10_000
    assert market.functions.balanceOf(work.creator_address).call() == price - platform_share
    platform = Account.from_key(settings.PLATFORM_SIGNING_KEY).address
    assert market.functions.balanceOf(platform).call() == platform_share
    purchased = market.events.LicensePurchased().process_receipt(receipt, errors=DISCARD)
    credited = market.events.Credited().process_receipt(receipt, errors=DISCARD)
    assert purchased[0]["args"]["quoteId"] == bytes.fromhex(quote.quote_id[2:])
    assert sorted(e["args"]["amount"] for e in credited) == sorted([price - platform_share, platform_share])
    assert w3.eth.get_balance(market.address) == price  # held for the payees, not the platform


def test_the_wrong_price_is_refused(setup, buyer):
    w3, _, offer = setup
    tx = services.quote_transaction(quote=_quote(offer, buyer, w3), w3=w3)
    tx["value"] = hex(int(tx["value"], 16) - 1)
    receipt = send_tx(w3, buyer.account, tx)
    assert receipt.status == 0
    assert _error_name(w3, receipt, tx) == "WrongPrice"


def test_an_expired_quote_is_refused(setup, buyer, settings):
    w3, _, offer = setup
    settings.QUOTE_TTL_SECONDS = 1
    quote = _quote(offer, buyer, w3)
    time.sleep(2.1)
    tx = services.quote_transaction(quote=quote, w3=w3)
    receipt = send_tx(w3, buyer.account, tx)
    assert receipt.status == 0
    assert _error_name(w3, receipt, tx) == "QuoteExpired"


def test_a_replayed_quote_is_refused(setup, buyer):
    w3, _, offer = setup
    tx = services.quote_transaction(quote=_quote(offer, buyer, w3), w3=w3)
    assert send_tx(w3, buyer.account, tx).status == 1
    receipt = send_tx(w3, buyer.account, tx)
    assert receipt.status == 0
    assert _error_name(w3, receipt, tx) == "QuoteAlreadyUsed"


def test_a_forged_signature_is_refused(setup, buyer):
    w3, _, offer = setup
    quote = _quote(offer, buyer, w3)
    # The buyer rewrites the price to zero and signs the quote with a key of their own.
    quote.typed_data["message"]["price"] = 0
    quote.price_wei = 0
    quote.signature = eip712.sign(quote.typed_data, Account.create().key.hex())
    tx = services.quote_transaction(quote=quote, w3=w3)
    receipt = send_tx(w3, buyer.account, tx)
    assert receipt.status == 0
    assert _error_name(w3, receipt, tx) == "BadSignature"


def test_someone_else_cannot_use_the_buyers_quote(setup, buyer, outsider):
    w3, _, offer = setup
    fund(w3, outsider.address)
    tx = services.quote_transaction(quote=_quote(offer, buyer, w3), w3=w3)
    receipt = send_tx(w3, outsider.account, tx)
    assert receipt.status == 0
    assert _error_name(w3, receipt, tx) == "WrongBuyer"


def test_payees_withdraw_their_balance_once(setup, buyer, creator):
    w3, work, offer = setup
    quote = _quote(offer, buyer, w3)
    send_tx(w3, buyer.account, services.quote_transaction(quote=quote, w3=w3))
    market = contract(w3=w3, name=MARKET)
    owed = market.functions.balanceOf(creator.address).call()
    before = w3.eth.get_balance(creator.address)
    call = {"to": market.address, "data": market.encode_abi("withdraw", args=[]), "value": 0}
    receipt = send_tx(w3, creator.account, call)
    assert receipt.status == 1
    fee = receipt.gasUsed * receipt.effectiveGasPrice
    assert w3.eth.get_balance(creator.address) == before + owed - fee
    assert market.events.Withdrawn().process_receipt(receipt, errors=DISCARD)[0]["args"]["amount"] == owed
    assert send_tx(w3, creator.account, call).status == 0  # nothing left


def test_a_reentrant_payee_cannot_withdraw_twice(setup, buyer, creator):
    w3, work, offer = setup
    market = contract(w3=w3, name=MARKET)
    art = artifact("ReentrantPayee")
    deploy = w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"]).constructor(market.address)
    receipt = send_tx(w3, creator.account, {"data": deploy.data_in_transaction, "value": 0, "gas": 1_000_000})
    attacker = w3.eth.contract(address=receipt.contractAddress, abi=art["abi"])
    # The attacker contract is the creator's payee.
    work.creator_address = attacker.address
    work.save(update_fields=["creator_address"])
    quote = _quote(offer, buyer, w3)
    assert send_tx(w3, buyer.account, services.quote_transaction(quote=quote, w3=w3)).status == 1
    owed = market.functions.balanceOf(attacker.address).call()
    assert owed > 0

    attack = {"to": attacker.address, "data": attacker.encode_abi("attack", args=[]), "value": 0}
    assert send_tx(w3, creator.account, attack).status == 1

    assert attacker.functions.reentered().call() == 1
    assert attacker.functions.reentrySucceeded().call() is False
    assert w3.eth.get_balance(attacker.address) == owed
    assert market.functions.balanceOf(attacker.address).call() == 0
