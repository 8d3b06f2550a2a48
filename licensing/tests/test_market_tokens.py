"""LicenseMarket's token payments on a real anvil: a TokenQuote paid by the buyer's EIP-3009
authorisation (anyone may submit it) or from the buyer's allowance (a permit), credited per payee
and withdrawn; what a leaked key or a tampered quote cannot do."""

import secrets

import pytest
from eth_account.messages import encode_typed_data
from web3 import Web3

from core.chain import market as messages
from core.chain.contracts import MARKET, contract
from core.chain.eip712 import typed_data_sign
from core.chain.keys import platform_signer, sender_account
from core.chain.market import AI_FETCH
from core.chain.merkle import (
    ESCROW_LEAF,
    PAYEE_LEAF,
    SETTLEMENT_LEAF_ENCODING,
    ZERO_ADDRESS,
    StandardMerkleTree,
)
from core.chain.reverts import revert_error
from core.chain.stablecoin import permit_typed_data, transfer_authorization_typed_data
from licensing.tests.helpers import fund, mint_stablecoin, send_tx

pytestmark = pytest.mark.anvil
PRICE = 1_000_000


@pytest.fixture
def setup(chain, creator, buyer, outsider):
    token = mint_stablecoin(chain, buyer.address, 5 * PRICE)
    for persona in (creator, buyer, outsider):
        fund(chain, persona.address)
    return chain, token, contract(w3=chain, name=MARKET)


def _quote(w3, market, token, buyer, payees, amounts, *, key=None, price=PRICE):
    typed = messages.token_quote_typed_data(
        chain_id=w3.eth.chain_id,
        market=market.address,
        token=token.address,
        quote_id="0x" + secrets.token_hex(32),
        work_id=1,
        terms_hash="0x" + "11" * 32,
        offer_id="0x" + "22" * 32,
        uses=AI_FETCH,
        buyer=buyer,
        price=price,
        payees=payees,
        amounts=amounts,
        expiry=w3.eth.get_block("latest")["timestamp"] + 600,
    )
    m = typed["message"]
    args = (
        bytes.fromhex(m["quoteId"][2:]), m["workId"], bytes.fromhex(m["termsHash"][2:]),
        bytes.fromhex(m["offerId"][2:]), m["uses"], m["token"], m["buyer"], m["price"],
        m["payees"], m["amounts"], m["expiry"],
    )  # fmt: skip
    return args, bytes.fromhex(typed_data_sign(typed, key or platform_signer())[2:])


def _authorisation(w3, token, market, payer, value=PRICE):
    now = w3.eth.get_block("latest")["timestamp"]  # the token checks the window by the chain's clock
    nonce = "0x" + secrets.token_hex(32)
    typed = transfer_authorization_typed_data(
        chain_id=w3.eth.chain_id, token=token.address, sender=payer.address, to=market.address,
        value=value, valid_after=now - 60, valid_before=now + 600, nonce=nonce,
    )  # fmt: skip
    signature = payer.account.sign_message(encode_typed_data(full_message=typed)).signature
    return (now - 60, now + 600, bytes.fromhex(nonce[2:]), bytes(signature))


def _call(w3, market, sender, name, *args):
    receipt = send_tx(w3, sender, {"to": market.address, "data": market.encode_abi(name, args=list(args))})
    return receipt, None if receipt.status == 1 else revert_error(
        w3, receipt.transactionHash, contract_name=MARKET
    )


def test_anyone_submits_the_buyers_authorisation_and_the_split_is_credited_in_the_token(
    setup, creator, buyer, outsider
):
    w3, token, market = setup
    quote, signature = _quote(
        w3, market, token, buyer.address, [creator.address, outsider.address], [900_000, 100_000]
    )
    auth = _authorisation(w3, token, market, buyer)
    receipt, error = _call(w3, market, outsider.account, "purchaseWithAuthorization", quote, signature, auth)
    assert error is None
    assert token.functions.balanceOf(market.address).call() == PRICE
    assert market.functions.tokenBalanceOf(token.address, creator.address).call() == 900_000
    assert market.functions.totalTokenCredited(token.address).call() == PRICE
    assert market.functions.balanceOf(creator.address).call() == 0  # ether balances untouched
    credited = market.events.TokenCredited().process_receipt(receipt)
    assert sorted(e["args"]["amount"] for e in credited) == [100_000, 900_000]

    again, error = _call(w3, market, outsider.account, "purchaseWithAuthorization", quote, signature, auth)
    assert error == "QuoteAlreadyUsed"
    _, error = _call(w3, market, creator.account, "withdrawToken", token.address)
    assert error is None and token.functions.balanceOf(creator.address).call() == 900_000
    _, error = _call(w3, market, creator.account, "withdrawToken", token.address)
    assert error == "NothingToWithdraw"


def test_a_tampered_quote_or_a_leaked_sending_key_moves_nothing(setup, creator, buyer, outsider):
    w3, token, market = setup
    auth = _authorisation(w3, token, market, buyer)
    # the operator (sending key) signs its own quote paying itself: not a SIGNER_ROLE signature
    quote, forged = _quote(
        w3, market, token, buyer.address, [outsider.address], [PRICE], key=sender_account()
    )
    assert (
        _call(w3, market, outsider.account, "purchaseWithAuthorization", quote, forged, auth)[1]
        == "BadSignature"
    )
    # a genuine quote for a higher price than the buyer authorised: the token refuses it
    quote, signature = _quote(
        w3, market, token, buyer.address, [creator.address], [2 * PRICE], price=2 * PRICE
    )
    receipt, _ = _call(w3, market, outsider.account, "purchaseWithAuthorization", quote, signature, auth)
    assert receipt.status == 0
    # shares that do not add up to the price
    quote, signature = _quote(w3, market, token, buyer.address, [creator.address], [PRICE - 1])
    assert (
        _call(w3, market, outsider.account, "purchaseWithAuthorization", quote, signature, auth)[1]
        == "BadSplit"
    )
    assert token.functions.balanceOf(buyer.address).call() == 5 * PRICE


def _permit(w3, token, market, buyer):
    """The buyer's EIP-2612 permit for the market to take the price: (deadline, signature), built
    by the portal's own permit_typed_data (what the wallet is asked to sign)."""
    deadline = w3.eth.get_block("latest")["timestamp"] + 600
    permit = permit_typed_data(
        w3=w3, owner=buyer.address, spender=market.address, value=PRICE, deadline=deadline
    )
    assert permit["domain"]["verifyingContract"] == token.address
    return deadline, buyer.account.sign_message(encode_typed_data(full_message=permit))


def test_a_buyer_pays_a_token_quote_with_one_permit_signature_and_one_transaction(setup, creator, buyer):
    w3, token, market = setup
    quote, signature = _quote(w3, market, token, buyer.address, [creator.address], [PRICE])
    deadline, signed = _permit(w3, token, market, buyer)
    permit = (deadline, signed.v, signed.r.to_bytes(32), signed.s.to_bytes(32))
    _, error = _call(w3, market, buyer.account, "purchaseWithPermit", quote, signature, *permit)
    assert error is None
    assert market.functions.tokenBalanceOf(token.address, creator.address).call() == PRICE
    assert token.functions.allowance(buyer.address, market.address).call() == 0  # exactly the price
    again, again_signature = _quote(w3, market, token, buyer.address, [creator.address], [PRICE])
    receipt, _ = _call(w3, market, buyer.account, "purchaseWithPermit", again, again_signature, *permit)
    assert receipt.status == 0  # the permit was used: no allowance is left for a second quote


def test_a_buyer_pays_a_token_quote_with_a_permit_and_an_allowance(setup, creator, buyer, outsider):
    w3, token, market = setup
    quote, signature = _quote(w3, market, token, buyer.address, [creator.address], [PRICE])
    assert (
        _call(w3, market, buyer.account, "purchaseWithToken", quote, signature)[0].status == 0
    )  # no allowance
    deadline, signed = _permit(w3, token, market, buyer)
    # anyone may submit the permit (one signature in the buyer's wallet); then the buyer pays
    call = token.encode_abi(
        "permit",
        args=[
            buyer.address,
            market.address,
            PRICE,
            deadline,
            signed.v,
            signed.r.to_bytes(32),
            signed.s.to_bytes(32),
        ],
    )
    assert send_tx(w3, outsider.account, {"to": token.address, "data": call}).status == 1
    assert _call(w3, market, outsider.account, "purchaseWithToken", quote, signature)[1] == "WrongBuyer"
    _, error = _call(w3, market, buyer.account, "purchaseWithToken", quote, signature)
    assert error is None
    assert market.functions.tokenBalanceOf(token.address, creator.address).call() == PRICE


# ------------------------------------------------------------------ settlements paid in the token


def _token_settlement(w3, market, token, buyer, allocations, *, escrowed=(), key=None):
    """A signed TokenSettlement over (payee, amount) allocations and (held for, amount) escrowed
    ones: (args, signature, tree)."""
    values = [[PAYEE_LEAF, i, payee, amount, ZERO_ADDRESS] for i, (payee, amount) in enumerate(allocations)]
    values += [
        [ESCROW_LEAF, len(values) + i, held_for, amount, buyer]
        for i, (held_for, amount) in enumerate(escrowed)
    ]
    tree = StandardMerkleTree.of(values, SETTLEMENT_LEAF_ENCODING)
    settlement_id = "0x" + secrets.token_hex(32)
    price = sum(v[3] for v in values)
    expiry = w3.eth.get_block("latest")["timestamp"] + 600
    epoch = market.functions.disputeEpoch().call()
    typed = messages.token_settlement_typed_data(
        token=token.address,
        chain_id=w3.eth.chain_id,
        market=market.address,
        settlement_id=settlement_id,
        root=Web3.to_hex(tree.root),
        buyer=buyer,
        price=price,
        expiry=expiry,
        dispute_epoch=epoch,
    )
    args = (bytes.fromhex(settlement_id[2:]), tree.root, token.address, buyer, price, expiry, epoch)
    return args, bytes.fromhex(typed_data_sign(typed, key or platform_signer())[2:]), tree


def _claim(tree, settlement_id, index):
    return (settlement_id, index, tree.values[index]["value"][3], tree.proof(index))


def test_a_token_settlement_is_paid_with_one_permit_and_claimed_in_the_token(
    setup, creator, co_creator, buyer
):
    w3, token, market = setup
    fund(w3, co_creator.address)
    args, signature, tree = _token_settlement(
        w3, market, token, buyer.address, [(creator.address, 700_000), (co_creator.address, 300_000)]
    )
    deadline = w3.eth.get_block("latest")["timestamp"] + 600
    permit = permit_typed_data(
        w3=w3, owner=buyer.address, spender=market.address, value=args[4], deadline=deadline
    )
    signed = buyer.account.sign_message(encode_typed_data(full_message=permit))
    permit_args = (deadline, signed.v, signed.r.to_bytes(32), signed.s.to_bytes(32))
    receipt, error = _call(w3, market, buyer.account, "settleWithPermit", args, signature, *permit_args)
    assert error is None
    (event,) = market.events.TokenSettled().process_receipt(receipt)
    assert event["args"]["token"] == token.address and event["args"]["price"] == PRICE
    assert market.functions.settlementToken(args[0]).call() == token.address
    assert market.functions.totalTokenUnclaimed(token.address).call() == PRICE
    assert market.functions.totalUnclaimed().call() == 0  # no ether was settled
    assert token.functions.balanceOf(buyer.address).call() == 4 * PRICE

    # nobody claims another payee's leaf
    assert _call(w3, market, co_creator.account, "claim", [_claim(tree, args[0], 0)])[1] == "BadProof"
    _, error = _call(
        w3, market, creator.account, "claimAndWithdrawToken", [_claim(tree, args[0], 0)], token.address
    )
    assert error is None
    assert token.functions.balanceOf(creator.address).call() == 700_000
    assert market.functions.balanceOf(creator.address).call() == 0  # nothing credited in ether
    assert _call(w3, market, creator.account, "claim", [_claim(tree, args[0], 0)])[1] == "AlreadyClaimed"
    # the co-creator claims its own leaf into its token balance
    _, error = _call(w3, market, co_creator.account, "claim", [_claim(tree, args[0], 1)])
    assert error is None
    assert market.functions.tokenBalanceOf(token.address, co_creator.address).call() == 300_000
    assert market.functions.totalTokenUnclaimed(token.address).call() == 0
    assert market.functions.totalTokenCredited(token.address).call() == 300_000
    assert token.functions.balanceOf(market.address).call() == 300_000  # what is still owed, exactly


def test_a_token_settlement_refuses_a_forged_signature_another_buyer_and_a_replay(
    setup, creator, buyer, outsider
):
    w3, token, market = setup
    allocations = [(creator.address, PRICE)]
    args, forged, _ = _token_settlement(w3, market, token, buyer.address, allocations, key=sender_account())
    _call(w3, token, buyer.account, "approve", market.address, 3 * PRICE)
    assert _call(w3, market, buyer.account, "settleWithToken", args, forged)[1] == "BadSignature"
    args, signature, _ = _token_settlement(w3, market, token, buyer.address, allocations)
    assert _call(w3, market, outsider.account, "settleWithToken", args, signature)[1] == "WrongBuyer"
    # the signed token swapped for another: the signature no longer matches
    swapped = (*args[:2], outsider.address, *args[3:])
    assert _call(w3, market, buyer.account, "settleWithToken", swapped, signature)[1] == "BadSignature"
    assert _call(w3, market, buyer.account, "settleWithToken", args, signature)[1] is None
    assert _call(w3, market, buyer.account, "settleWithToken", args, signature)[1] == "QuoteAlreadyUsed"
    assert token.functions.balanceOf(buyer.address).call() == 4 * PRICE  # paid once


def test_an_escrowed_token_allocation_is_released_in_the_token(setup, creator, buyer, outsider):
    w3, token, market = setup
    args, signature, tree = _token_settlement(
        w3, market, token, buyer.address, [(creator.address, 600_000)], escrowed=[(creator.address, 400_000)]
    )
    _call(w3, token, buyer.account, "approve", market.address, PRICE)
    assert _call(w3, market, buyer.account, "settleWithToken", args, signature)[1] is None
    leaf = (args[0], 1, 400_000, creator.address, buyer.address)
    # the operator may release it only to a party its leaf names: here, back to the buyer
    assert (
        _call(w3, market, sender_account(), "releaseEscrow", leaf, tree.proof(1), outsider.address, b"")[1]
        == "BadDecision"
    )
    assert (
        _call(w3, market, sender_account(), "releaseEscrow", leaf, tree.proof(1), buyer.address, b"")[1]
        is None
    )
    assert market.functions.tokenBalanceOf(token.address, buyer.address).call() == 400_000
    assert market.functions.balanceOf(buyer.address).call() == 0
    _, error = _call(w3, market, buyer.account, "withdrawToken", token.address)
    assert error is None and token.functions.balanceOf(buyer.address).call() == 4 * PRICE + 400_000
