"""LicenseMarket (version 2) on a real anvil: purchases (checks, exact credits, revocation),
settlements paid in one transaction and claimed with Merkle proofs, pull payments, reentrancy,
escrow released only where its leaf or a moderator's decision says. The attacks that worked on
version 1 are in test_market_attacks.py."""

import secrets

import pytest
from django.conf import settings
from eth_account import Account
from web3 import Web3
from web3.logs import DISCARD

from core.chain import market as eip712
from core.chain.contracts import MARKET, artifact, contract
from core.chain.eip712 import typed_data_sign
from core.chain.keys import moderation_signer, platform_fee_address, platform_signer, sender_account
from core.chain.merkle import (
    ESCROW_LEAF,
    PAYEE_LEAF,
    SETTLEMENT_LEAF_ENCODING,
    ZERO_ADDRESS,
    StandardMerkleTree,
)
from core.chain.reverts import revert_error
from licensing import services, uses
from licensing.tests.helpers import fund, offered_work, send_tx

pytestmark = pytest.mark.anvil


@pytest.fixture
def setup(chain, creator, buyer):
    fund(chain, buyer.address)
    fund(chain, creator.address)
    work, offer = offered_work(creator, w3=chain, seed=400)
    return chain, work, offer


def _quote(offer, buyer, w3, mask=uses.LICENCE):
    return services.quote_create(
        offer=offer, buyer=buyer.user, buyer_address=buyer.address, w3=w3, uses_mask=mask
    )


def _pay(w3, account, tx):
    receipt = send_tx(w3, account, tx)
    return receipt, (
        None if receipt.status == 1 else revert_error(w3, receipt.transactionHash, contract_name=MARKET)
    )


def test_a_purchase_credits_every_payee_exactly_and_emits_events(setup, buyer):
    w3, work, offer = setup
    quote = _quote(offer, buyer, w3)
    receipt, error = _pay(w3, buyer.account, services.quote_transaction(quote=quote, w3=w3))
    assert error is None

    market = contract(w3=w3, name=MARKET)
    price = int(quote.price_wei)
    platform_share = price * settings.PLATFORM_FEE_BPS // 10_000
    assert market.functions.balanceOf(work.creator_address).call() == price - platform_share
    assert market.functions.balanceOf(platform_fee_address()).call() == platform_share
    purchased = market.events.LicensePurchased().process_receipt(receipt, errors=DISCARD)[0]["args"]
    assert purchased["quoteId"] == bytes.fromhex(quote.quote_id[2:])
    assert purchased["uses"] == uses.LICENCE and Web3.to_hex(purchased["offerId"]) == offer.chain_key
    credited = market.events.Credited().process_receipt(receipt, errors=DISCARD)
    assert sorted(e["args"]["amount"] for e in credited) == sorted([price - platform_share, platform_share])
    assert w3.eth.get_balance(market.address) == price  # held for the payees, not the platform
    assert market.functions.totalCredited().call() == price


def test_the_wrong_price_is_refused(setup, buyer):
    w3, _, offer = setup
    tx = services.quote_transaction(quote=_quote(offer, buyer, w3), w3=w3)
    tx["value"] = hex(int(tx["value"], 16) - 1)
    assert _pay(w3, buyer.account, tx)[1] == "WrongPrice"


def test_an_expired_quote_is_refused_on_chain(private_chain, creator, buyer):
    w3 = private_chain
    fund(w3, buyer.address)
    _, offer = offered_work(creator, w3=w3, seed=401)
    quote = _quote(offer, buyer, w3)
    tx = services.quote_transaction(quote=quote, w3=w3)
    w3.provider.make_request("evm_increaseTime", [settings.QUOTE_TTL_SECONDS + 60])
    w3.provider.make_request("evm_mine", [])
    assert _pay(w3, buyer.account, tx)[1] == "QuoteExpired"


def test_a_replayed_quote_is_refused(setup, buyer):
    w3, _, offer = setup
    tx = services.quote_transaction(quote=_quote(offer, buyer, w3), w3=w3)
    assert _pay(w3, buyer.account, tx)[1] is None
    assert _pay(w3, buyer.account, tx)[1] == "QuoteAlreadyUsed"


def test_a_forged_signature_is_refused(setup, buyer):
    w3, _, offer = setup
    quote = _quote(offer, buyer, w3)
    # The buyer rewrites the price to zero and signs the quote with a key of their own.
    quote.typed_data["message"]["price"] = 0
    quote.typed_data["message"]["amounts"] = [0] * len(quote.typed_data["message"]["amounts"])
    quote.price_wei = 0
    quote.signature = typed_data_sign(quote.typed_data, Account.create())
    assert _pay(w3, buyer.account, services.quote_transaction(quote=quote, w3=w3))[1] == "BadSignature"


def test_a_split_that_does_not_add_up_is_refused_even_when_signed(setup, buyer):
    w3, _, offer = setup
    quote = _quote(offer, buyer, w3)
    quote.typed_data["message"]["amounts"][0] -= 1
    quote.signature = typed_data_sign(quote.typed_data, platform_signer())
    assert _pay(w3, buyer.account, services.quote_transaction(quote=quote, w3=w3))[1] == "BadSplit"


def test_someone_else_cannot_use_the_buyers_quote(setup, buyer, outsider):
    w3, _, offer = setup
    fund(w3, outsider.address)
    tx = services.quote_transaction(quote=_quote(offer, buyer, w3), w3=w3)
    assert _pay(w3, outsider.account, tx)[1] == "WrongBuyer"


def test_a_withdrawn_offer_is_revoked_on_chain_and_its_quote_refused(setup, buyer):
    w3, _, offer = setup
    quote = _quote(offer, buyer, w3)
    tx = services.quote_transaction(quote=quote, w3=w3)  # the buyer's wallet already holds this
    services.offer_withdraw(offer=offer)
    from core.chain.sender import sender_context

    assert services.offer_revocations_send(ctx=sender_context(w3=w3)) == 1
    assert services.offer_revocations_send(ctx=sender_context(w3=w3)) == 0  # once only
    market = contract(w3=w3, name=MARKET)
    assert market.functions.offerRevoked(bytes.fromhex(offer.chain_key[2:])).call() is True
    assert _pay(w3, buyer.account, tx)[1] == "OfferWithdrawn"


def test_only_the_operator_revokes_offers(setup, outsider):
    w3, _, offer = setup
    fund(w3, outsider.address)
    market = contract(w3=w3, name=MARKET)
    call = {"to": market.address, "data": market.encode_abi("revokeOffer", args=[bytes(32)]), "value": 0}
    assert _pay(w3, outsider.account, call)[1] == "AccessControlUnauthorizedAccount"


def test_payees_withdraw_their_balance_once(setup, buyer, creator):
    w3, work, offer = setup
    quote = _quote(offer, buyer, w3)
    send_tx(w3, buyer.account, services.quote_transaction(quote=quote, w3=w3))
    market = contract(w3=w3, name=MARKET)
    owed = market.functions.balanceOf(creator.address).call()
    before = w3.eth.get_balance(creator.address)
    call = {"to": market.address, "data": market.encode_abi("withdraw", args=[]), "value": 0}
    receipt, error = _pay(w3, creator.account, call)
    assert error is None
    fee = receipt.gasUsed * receipt.effectiveGasPrice
    assert w3.eth.get_balance(creator.address) == before + owed - fee
    assert market.events.Withdrawn().process_receipt(receipt, errors=DISCARD)[0]["args"]["amount"] == owed
    assert _pay(w3, creator.account, call)[1] == "NothingToWithdraw"


def _attacker(w3, creator, market):
    art = artifact("ReentrantPayee")
    deploy = w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"]).constructor(market.address)
    receipt = send_tx(w3, creator.account, {"data": deploy.data_in_transaction, "value": 0, "gas": 1_000_000})
    return w3.eth.contract(address=receipt.contractAddress, abi=art["abi"])


def test_a_reentrant_payee_cannot_withdraw_twice(setup, buyer, creator):
    w3, work, offer = setup
    market = contract(w3=w3, name=MARKET)
    attacker = _attacker(w3, creator, market)
    # The attacker contract is the creator's payee.
    work.creator_address = attacker.address
    work.save(update_fields=["creator_address"])
    quote = _quote(offer, buyer, w3)
    assert _pay(w3, buyer.account, services.quote_transaction(quote=quote, w3=w3))[1] is None
    owed = market.functions.balanceOf(attacker.address).call()
    assert owed > 0

    data = market.encode_abi("withdraw", args=[])
    attack = {"to": attacker.address, "data": attacker.encode_abi("attack", args=[data]), "value": 0}
    assert _pay(w3, creator.account, attack)[1] is None

    assert attacker.functions.reentered().call() == 1
    assert attacker.functions.reentrySucceeded().call() is False
    assert w3.eth.get_balance(attacker.address) == owed
    assert market.functions.balanceOf(attacker.address).call() == 0


# ------------------------------------------------------------------ settlements


def _settlement(w3, buyer_address, allocations, *, escrowed=(), expiry_in=600):
    """Sign a settlement over (payee, amount) allocations and (held for, amount) escrowed ones
    (refundable to the buyer); returns (args, signature, tree)."""
    values = [[PAYEE_LEAF, i, payee, amount, ZERO_ADDRESS] for i, (payee, amount) in enumerate(allocations)]
    values += [
        [ESCROW_LEAF, len(values) + i, held_for, amount, buyer_address]
        for i, (held_for, amount) in enumerate(escrowed)
    ]
    tree = StandardMerkleTree.of(values, SETTLEMENT_LEAF_ENCODING)
    market = contract(w3=w3, name=MARKET)
    settlement_id = "0x" + secrets.token_hex(32)
    price = sum(v[3] for v in values)
    expiry = w3.eth.get_block("latest")["timestamp"] + expiry_in
    epoch = market.functions.disputeEpoch().call()
    typed = eip712.settlement_typed_data(
        chain_id=w3.eth.chain_id,
        market=market.address,
        settlement_id=settlement_id,
        root=Web3.to_hex(tree.root),
        buyer=buyer_address,
        price=price,
        expiry=expiry,
        dispute_epoch=epoch,
    )
    args = (bytes.fromhex(settlement_id[2:]), tree.root, buyer_address, price, expiry, epoch)
    return args, typed_data_sign(typed, platform_signer()), tree


def _settle_tx(w3, args, signature):
    market = contract(w3=w3, name=MARKET)
    return {
        "to": market.address,
        "data": market.encode_abi("settle", args=[args, signature]),
        "value": args[3],
    }


def _claim(w3, tree, settlement_id, index, *, amount=None, proof=None):
    value = tree.values[index]["value"]
    return (settlement_id, index, amount if amount is not None else value[3], proof or tree.proof(index))


def _claim_tx(w3, claims, *, withdraw=True):
    market = contract(w3=w3, name=MARKET)
    fn = "claimAndWithdraw" if withdraw else "claim"
    return {"to": market.address, "data": market.encode_abi(fn, args=[claims]), "value": 0}


@pytest.fixture
def settled(chain, buyer, creator, co_creator):
    for persona in (buyer, creator, co_creator):
        fund(chain, persona.address)
    allocations = [(creator.address, 7 * 10**15), (co_creator.address, 2 * 10**15 + 1), (creator.address, 11)]
    args, signature, tree = _settlement(chain, buyer.address, allocations)
    receipt, error = _pay(chain, buyer.account, _settle_tx(chain, args, signature))
    assert error is None
    return chain, args, tree, receipt


def test_one_transaction_settles_and_payees_claim_with_proofs(settled, creator, co_creator):
    w3, args, tree, receipt = settled
    market = contract(w3=w3, name=MARKET)
    event = market.events.Settled().process_receipt(receipt, errors=DISCARD)[0]["args"]
    assert event["root"] == tree.root and event["price"] == args[3]
    assert market.functions.totalUnclaimed().call() == args[3]

    before = w3.eth.get_balance(creator.address)
    claims = [_claim(w3, tree, args[0], 0), _claim(w3, tree, args[0], 2)]
    receipt, error = _pay(w3, creator.account, _claim_tx(w3, claims))
    assert error is None
    fee = receipt.gasUsed * receipt.effectiveGasPrice
    assert w3.eth.get_balance(creator.address) == before + 7 * 10**15 + 11 - fee
    assert market.functions.isClaimed(args[0], 0).call() and not market.functions.isClaimed(args[0], 1).call()
    assert market.functions.totalUnclaimed().call() == 2 * 10**15 + 1
    assert w3.eth.get_balance(market.address) == 2 * 10**15 + 1


def test_a_double_claim_is_refused(settled, creator):
    w3, args, tree, _ = settled
    claim = _claim(w3, tree, args[0], 0)
    assert _pay(w3, creator.account, _claim_tx(w3, [claim], withdraw=False))[1] is None
    assert _pay(w3, creator.account, _claim_tx(w3, [claim], withdraw=False))[1] == "AlreadyClaimed"


def test_nobody_claims_someone_elses_allocation(settled, creator, outsider):
    w3, args, tree, _ = settled
    fund(w3, outsider.address)
    assert _pay(w3, outsider.account, _claim_tx(w3, [_claim(w3, tree, args[0], 0)]))[1] == "BadProof"
    # nor a larger amount than allocated
    assert (
        _pay(w3, creator.account, _claim_tx(w3, [_claim(w3, tree, args[0], 0, amount=8 * 10**15)]))[1]
        == "BadProof"
    )


def test_a_proof_from_another_distribution_is_refused(settled, buyer, creator):
    w3, args, tree, _ = settled
    other_args, other_sig, other_tree = _settlement(
        w3, buyer.address, [(creator.address, 5), (buyer.address, 6)]
    )
    assert _pay(w3, buyer.account, _settle_tx(w3, other_args, other_sig))[1] is None
    foreign = _claim(w3, other_tree, args[0], 0)  # index 0 of the other tree, claimed against this one
    assert _pay(w3, creator.account, _claim_tx(w3, [foreign]))[1] == "BadProof"
    unknown = _claim(w3, tree, bytes(32), 0)
    assert _pay(w3, creator.account, _claim_tx(w3, [unknown]))[1] == "UnknownSettlement"


def test_a_settlement_with_a_wrong_root_or_price_is_refused(chain, buyer, creator):
    fund(chain, buyer.address)
    args, signature, _ = _settlement(chain, buyer.address, [(creator.address, 10**15)])
    wrong_root = (args[0], bytes(31) + b"\x01", *args[2:])
    assert _pay(chain, buyer.account, _settle_tx(chain, wrong_root, signature))[1] == "BadSignature"
    tx = _settle_tx(chain, args, signature)
    tx["value"] = args[3] - 1
    assert _pay(chain, buyer.account, tx)[1] == "WrongPrice"
    assert _pay(chain, buyer.account, _settle_tx(chain, args, signature))[1] is None
    assert _pay(chain, buyer.account, _settle_tx(chain, args, signature))[1] == "QuoteAlreadyUsed"


def test_a_reentrant_payee_cannot_claim_and_withdraw_twice(chain, buyer, creator):
    fund(chain, buyer.address)
    fund(chain, creator.address)
    market = contract(w3=chain, name=MARKET)
    attacker = _attacker(chain, creator, market)
    args, signature, tree = _settlement(
        chain, buyer.address, [(attacker.address, 10**15), (creator.address, 10**15)]
    )
    assert _pay(chain, buyer.account, _settle_tx(chain, args, signature))[1] is None
    data = market.encode_abi("claimAndWithdraw", args=[[_claim(chain, tree, args[0], 0)]])
    attack = {"to": attacker.address, "data": attacker.encode_abi("attack", args=[data]), "value": 0}
    assert _pay(chain, creator.account, attack)[1] is None
    assert attacker.functions.reentered().call() == 1
    assert attacker.functions.reentrySucceeded().call() is False
    assert chain.eth.get_balance(attacker.address) == 10**15
    assert chain.eth.get_balance(market.address) == 10**15  # the other payee's share is still there


def _release(market, args, tree, index, to, decision=b""):
    _, i, held_for, amount, refund_to = tree.values[index]["value"]
    leaf = (args[0], i, amount, held_for, refund_to)
    data = market.encode_abi("releaseEscrow", args=[leaf, tree.proof(index), to, decision])
    return {"to": market.address, "data": data, "value": 0}


def _decision(w3, market, args, index, to, signer):
    typed = eip712.escrow_decision_typed_data(
        chain_id=w3.eth.chain_id,
        market=market.address,
        settlement_id=Web3.to_hex(args[0]),
        index=index,
        to=to,
    )
    return bytes.fromhex(typed_data_sign(typed, signer)[2:])


def test_escrow_goes_only_where_its_leaf_or_a_moderators_decision_says(
    chain, buyer, creator, co_creator, outsider
):
    fund(chain, buyer.address)
    fund(chain, outsider.address)
    market = contract(w3=chain, name=MARKET)
    operator = sender_account()
    args, signature, tree = _settlement(
        chain, buyer.address, [], escrowed=[(creator.address, 3 * 10**15), (creator.address, 10**15)]
    )
    assert _pay(chain, buyer.account, _settle_tx(chain, args, signature))[1] is None

    assert _pay(chain, outsider.account, _release(market, args, tree, 0, creator.address))[1] == (
        "AccessControlUnauthorizedAccount"
    )
    # the operator alone: never to itself, nor to nowhere
    assert _pay(chain, operator, _release(market, args, tree, 0, operator.address))[1] == "BadDecision"
    assert _pay(chain, operator, _release(market, args, tree, 0, ZERO_ADDRESS))[1] == "BadRecipient"
    escrow = market.functions.ESCROW().call()
    assert _pay(chain, operator, _release(market, args, tree, 0, escrow))[1] == "BadRecipient"
    # a decision signed by a key that is not a moderator's
    forged = _decision(chain, market, args, 0, co_creator.address, platform_signer())
    assert (
        _pay(chain, operator, _release(market, args, tree, 0, co_creator.address, forged))[1] == "BadDecision"
    )

    # to the party it was held for (the dispute was rejected)
    assert _pay(chain, operator, _release(market, args, tree, 0, creator.address))[1] is None
    assert market.functions.balanceOf(creator.address).call() == 3 * 10**15
    assert _pay(chain, operator, _release(market, args, tree, 0, creator.address))[1] == "AlreadyClaimed"
    # to the rightful creator a moderator named (the dispute was upheld)
    decision = _decision(chain, market, args, 1, co_creator.address, moderation_signer())
    assert _pay(chain, operator, _release(market, args, tree, 1, co_creator.address, decision))[1] is None
    assert market.functions.balanceOf(co_creator.address).call() == 10**15
    assert market.functions.remaining(args[0]).call() == 0
