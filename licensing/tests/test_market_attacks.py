"""The security review's attacks on LicenseMarket, each run against version 1 (where it worked)
and version 2 (where it fails), both freshly deployed on a real anvil.

1. A leaked signing key (or a faulty tree builder) drains every unclaimed settlement with a
   price-0 settlement whose root pays the attacker.
2. The operator (the hot sending key) releases escrow to itself, to nobody, or back to ESCROW.
4. A settlement or quote signed before a dispute is paid during it.
5. A quote credits ESCROW or the zero address; constructors take zero addresses.
And what version 2 adds: cancelling a signed quote or settlement, the guardian's pause."""

import secrets
from dataclasses import dataclass

import pytest
from eth_account import Account
from web3 import Web3

from core.chain import market as eip712
from core.chain.contracts import MARKET, MARKET_V1, artifact
from core.chain.eip712 import typed_data_sign
from core.chain.keys import DEVELOPMENT_KEYS, moderation_signer, platform_signer, sender_account
from core.chain.merkle import (
    ESCROW_LEAF,
    PAYEE_LEAF,
    SETTLEMENT_LEAF_ENCODING,
    SETTLEMENT_V1_LEAF_ENCODING,
    ZERO_ADDRESS,
    StandardMerkleTree,
)
from core.chain.reverts import revert_error
from licensing.tests.helpers import fund, send_tx
from royalties.settlement import ESCROW_ADDRESS

pytestmark = pytest.mark.anvil
ETHER = 10**18
PANIC = "Panic"  # Solidity's arithmetic panic (0x11), not a custom error of ours


def _owner():
    """anvil's account 9: the development default of CHAIN_OWNER_ADDRESS (a cold key elsewhere)."""
    return next(a for a in (Account.from_key(k) for k in DEVELOPMENT_KEYS) if a.address.endswith("79720"))


@dataclass
class Market:
    """One deployed market, version 1 or 2, with what a test needs to sign and send to it."""

    w3: Web3
    version: int
    contract: object

    @classmethod
    def deploy(cls, w3, version, *, args=None):
        name = MARKET if version == 2 else MARKET_V1
        if args is None:
            operator = sender_account().address
            signer = platform_signer().address
            args = (
                [_owner().address, 0, signer, operator, _owner().address, moderation_signer().address]
                if version == 2
                else [signer, operator]
            )
        factory = w3.eth.contract(abi=artifact(name)["abi"], bytecode=artifact(name)["bytecode"])
        deployer = sender_account()
        fund(w3, deployer.address)
        receipt = send_tx(
            w3,
            deployer,
            {"data": factory.constructor(*args).data_in_transaction, "value": 0, "gas": 6_000_000},
        )
        if receipt.status != 1:
            return None
        return cls(w3, version, w3.eth.contract(address=receipt.contractAddress, abi=artifact(name)["abi"]))

    @property
    def address(self):
        return self.contract.address

    def send(self, account, function, args, value=0):
        tx = {"to": self.address, "data": self.contract.encode_abi(function, args=args), "value": value}
        receipt = send_tx(self.w3, account, tx)
        if receipt.status == 1:
            return None
        name = revert_error(
            self.w3, receipt.transactionHash, contract_name=MARKET if self.version == 2 else MARKET_V1
        )
        return name or PANIC

    # ---------------------------------------------------------------- settlements

    def tree(self, buyer, payees=(), escrowed=()):
        if self.version == 2:
            values = [[PAYEE_LEAF, i, p, a, ZERO_ADDRESS] for i, (p, a) in enumerate(payees)]
            values += [[ESCROW_LEAF, len(payees) + i, h, a, buyer] for i, (h, a) in enumerate(escrowed)]
            return StandardMerkleTree.of(values, SETTLEMENT_LEAF_ENCODING)
        values = [[i, p, a] for i, (p, a) in enumerate(payees)]
        values += [[len(payees) + i, ESCROW_ADDRESS, a] for i, (_, a) in enumerate(escrowed)]
        return StandardMerkleTree.of(values, SETTLEMENT_V1_LEAF_ENCODING)

    def signed_settlement(self, buyer, tree, price, *, signer=None):
        settlement_id = "0x" + secrets.token_hex(32)
        expiry = self.w3.eth.get_block("latest")["timestamp"] + 600
        epoch = self.contract.functions.disputeEpoch().call() if self.version == 2 else 0
        typed = eip712.settlement_typed_data(
            chain_id=self.w3.eth.chain_id,
            market=self.address,
            settlement_id=settlement_id,
            root=Web3.to_hex(tree.root),
            buyer=buyer,
            price=price,
            expiry=expiry,
            dispute_epoch=epoch,
        )
        args = [bytes.fromhex(settlement_id[2:]), tree.root, buyer, price, expiry]
        if self.version == 2:
            args.append(epoch)
        else:
            typed = eip712.settlement_v1_typed_data(typed)
        return tuple(args), bytes.fromhex(typed_data_sign(typed, signer or platform_signer())[2:])

    def settle(self, buyer_account, payees=(), escrowed=(), *, price=None, signer=None):
        tree = self.tree(buyer_account.address, payees, escrowed)
        total = sum(a for _, a in payees) + sum(a for _, a in escrowed)
        price = total if price is None else price
        args, signature = self.signed_settlement(buyer_account.address, tree, price, signer=signer)
        return self.send(buyer_account, "settle", [args, signature], value=price), args[0], tree

    def claim(self, account, settlement_id, tree, index, *, withdraw=True):
        value = tree.values[index]["value"]
        amount = value[3] if self.version == 2 else value[2]
        claim = (settlement_id, index, amount, tree.proof(index))
        return self.send(account, "claimAndWithdraw" if withdraw else "claim", [[claim]])

    def release(self, settlement_id, tree, index, to):
        value = tree.values[index]["value"]
        if self.version == 2:
            _, i, held_for, amount, refund_to = value
            leaf = (settlement_id, i, amount, held_for, refund_to)
            return self.send(sender_account(), "releaseEscrow", [leaf, tree.proof(index), to, b""])
        i, _, amount = value
        return self.send(sender_account(), "releaseEscrow", [settlement_id, i, amount, tree.proof(index), to])

    # ---------------------------------------------------------------- quotes

    def purchase(self, buyer_account, work_id, payees, amounts, *, quote_id=None):
        quote_id = quote_id or "0x" + secrets.token_hex(32)
        terms, offer = "0x" + secrets.token_hex(32), "0x" + secrets.token_hex(32)
        expiry = self.w3.eth.get_block("latest")["timestamp"] + 600
        price = sum(amounts)
        typed = eip712.quote_typed_data(
            chain_id=self.w3.eth.chain_id,
            market=self.address,
            quote_id=quote_id,
            work_id=work_id,
            terms_hash=terms,
            offer_id=offer,
            uses=1,
            buyer=buyer_account.address,
            price=price,
            payees=payees,
            amounts=amounts,
            expiry=expiry,
        )
        if self.version == 1:
            typed = eip712.quote_v1_typed_data(typed)
        quote = (
            bytes.fromhex(quote_id[2:]),
            work_id,
            bytes.fromhex(terms[2:]),
            bytes.fromhex(offer[2:]),
            1,
            buyer_account.address,
            price,
            payees,
            amounts,
            expiry,
        )
        signature = bytes.fromhex(typed_data_sign(typed, platform_signer())[2:])
        return self.send(buyer_account, "purchase", [quote, signature], value=price)


@pytest.fixture(params=[1, 2], ids=["v1", "v2"])
def market(request, chain, buyer, creator, co_creator, outsider):
    for persona in (buyer, creator, co_creator, outsider):
        fund(chain, persona.address, eth=1000)
    fund(chain, platform_signer().address)
    return Market.deploy(chain, request.param)


def test_a_leaked_signing_key_drains_nothing_but_its_own_settlement(market, buyer, creator, co_creator):
    """The review's attack: 11 ether held (10 unclaimed for payees, 1 in escrow); whoever holds
    the signing key signs a price-0 settlement paying itself 10 ether and claims it."""
    w3 = market.w3
    error, rightful_id, rightful = market.settle(
        buyer.account,
        [(creator.address, 7 * ETHER), (co_creator.address, 3 * ETHER)],
        [(creator.address, ETHER)],
    )
    assert error is None and w3.eth.get_balance(market.address) == 11 * ETHER

    thief = Account.from_key(platform_signer().key)
    error, forged_id, forged = market.settle(thief, [(thief.address, 10 * ETHER)], price=0)
    assert error is None  # a price-0 settlement is accepted either way...
    before = w3.eth.get_balance(thief.address)
    error = market.claim(thief, forged_id, forged, 0)
    if market.version == 1:  # ...version 1 pays it out of everybody's money
        assert error is None
        assert w3.eth.get_balance(thief.address) > before + 9 * ETHER
        assert w3.eth.get_balance(market.address) == ETHER
        assert market.claim(creator.account, rightful_id, rightful, 0) == PANIC  # the payees' claims fail
        return
    assert error == "Overdrawn"  # version 2: a settlement pays out at most its own price (0)
    assert w3.eth.get_balance(market.address) == 11 * ETHER
    assert market.contract.functions.remaining(forged_id).call() == 0
    assert market.claim(creator.account, rightful_id, rightful, 0) is None
    assert market.claim(co_creator.account, rightful_id, rightful, 1) is None
    assert w3.eth.get_balance(market.address) == ETHER  # the escrow, still there
    assert market.contract.functions.remaining(rightful_id).call() == ETHER


def test_a_faulty_tree_that_over_allocates_is_bounded_by_its_price(market, buyer, creator, co_creator):
    """A bug in the tree builder: leaves adding up to more than the price paid."""
    market.settle(buyer.account, [(co_creator.address, 5 * ETHER)])  # someone else's money, unclaimed
    error, settlement_id, tree = market.settle(
        buyer.account, [(creator.address, 2 * ETHER), (creator.address, 2 * ETHER)], price=3 * ETHER
    )
    assert error is None
    assert market.claim(creator.account, settlement_id, tree, 0, withdraw=False) is None
    second = market.claim(creator.account, settlement_id, tree, 1, withdraw=False)
    if market.version == 1:
        assert second is None  # 4 ether out of a 3 ether settlement: 1 taken from co_creator
        return
    assert second == "Overdrawn"
    assert market.contract.functions.balanceOf(creator.address).call() == 2 * ETHER


def test_the_operator_alone_cannot_send_escrow_elsewhere(market, buyer, creator, co_creator):
    operator = sender_account()
    fund(market.w3, operator.address)
    error, settlement_id, tree = market.settle(
        buyer.account, [], [(creator.address, ETHER), (creator.address, ETHER)]
    )
    assert error is None
    to_itself = market.release(settlement_id, tree, 0, operator.address)
    to_nobody = market.release(settlement_id, tree, 1, ZERO_ADDRESS)
    if market.version == 1:
        assert to_itself is None and to_nobody is None
        assert market.contract.functions.balanceOf(operator.address).call() == ETHER
        assert market.contract.functions.balanceOf(ZERO_ADDRESS).call() == ETHER  # stuck for good
        return
    assert to_itself == "BadDecision" and to_nobody == "BadRecipient"
    assert market.release(settlement_id, tree, 1, ESCROW_ADDRESS) == "BadRecipient"
    assert market.release(settlement_id, tree, 0, co_creator.address) == "BadDecision"  # nobody decided so
    assert market.release(settlement_id, tree, 0, buyer.address) is None  # the refund its leaf names
    assert market.release(settlement_id, tree, 1, creator.address) is None  # the party it was held for
    assert market.contract.functions.balanceOf(operator.address).call() == 0


def test_a_settlement_signed_before_a_dispute_is_not_paid_during_it(market, buyer, creator):
    args_signed = market.tree(buyer.address, [(creator.address, ETHER)])
    args, signature = market.signed_settlement(buyer.address, args_signed, ETHER)
    if market.version == 2:  # the dispute opens: the portal pauses the work's sales
        assert market.send(sender_account(), "setWorkPaused", [42, True]) is None
    error = market.send(buyer.account, "settle", [args, signature], value=ETHER)
    if market.version == 1:
        assert error is None  # paid straight to the disputed creator, not escrow
        return
    assert error == "StaleSettlement"
    assert market.purchase(buyer.account, 42, [creator.address], [ETHER]) == "SalesPaused"
    assert market.purchase(buyer.account, 43, [creator.address], [ETHER]) is None  # other works sell
    assert market.send(sender_account(), "setWorkPaused", [42, False]) is None
    assert market.purchase(buyer.account, 42, [creator.address], [ETHER]) is None


def test_a_quote_cannot_credit_money_nobody_can_take_out(market, buyer, creator):
    for payee in (ESCROW_ADDRESS, ZERO_ADDRESS):
        error = market.purchase(buyer.account, 7, [creator.address, payee], [ETHER, 1])
        if market.version == 1:
            assert error is None and market.contract.functions.balanceOf(payee).call() == 1
        else:
            assert error == "BadSplit"


def test_constructors_refuse_zero_addresses(chain):
    zero = ZERO_ADDRESS
    assert Market.deploy(chain, 1, args=[zero, zero]) is not None  # version 1 took them
    signer, operator = platform_signer().address, sender_account().address
    for args in (
        [zero, 0, signer, operator, operator, operator],  # no owner
        [_owner().address, 0, zero, operator, operator, operator],
        [_owner().address, 0, signer, zero, operator, operator],
        [_owner().address, 0, signer, operator, zero, operator],
        [_owner().address, 0, signer, operator, operator, zero],
    ):
        assert Market.deploy(chain, 2, args=args) is None


# ------------------------------------------------------------------ version 2 only


@pytest.fixture
def market_v2(chain, buyer, creator):
    for persona in (buyer, creator):
        fund(chain, persona.address, eth=1000)
    fund(chain, sender_account().address)
    fund(chain, _owner().address)
    return Market.deploy(chain, 2)


def test_a_signed_quote_or_settlement_can_be_cancelled(market_v2, buyer, creator):
    quote_id = "0x" + secrets.token_hex(32)
    assert market_v2.send(sender_account(), "cancel", [bytes.fromhex(quote_id[2:])]) is None
    assert (
        market_v2.purchase(buyer.account, 1, [creator.address], [ETHER], quote_id=quote_id)
        == "QuoteAlreadyUsed"
    )
    tree = market_v2.tree(buyer.address, [(creator.address, ETHER)])
    args, signature = market_v2.signed_settlement(buyer.address, tree, ETHER)
    assert market_v2.send(buyer.account, "cancel", [args[0]]) == "AccessControlUnauthorizedAccount"
    assert market_v2.send(sender_account(), "cancel", [args[0]]) is None
    assert market_v2.send(buyer.account, "settle", [args, signature], value=ETHER) == "QuoteAlreadyUsed"


def test_the_guardian_pauses_and_only_the_owner_resumes_withdrawals_always_work(chain, buyer, creator):
    guardian, owner = Account.create(), _owner()
    for account in (buyer, creator, guardian, owner):
        fund(chain, account.address, eth=1000)
    signer, operator = platform_signer().address, sender_account().address
    market_v2 = Market.deploy(
        chain, 2, args=[owner.address, 0, signer, operator, guardian.address, moderation_signer().address]
    )
    assert market_v2.purchase(buyer.account, 1, [creator.address], [ETHER]) is None
    error, settlement_id, tree = market_v2.settle(buyer.account, [(creator.address, ETHER)])
    assert error is None
    assert market_v2.send(buyer.account, "pause", []) == "AccessControlUnauthorizedAccount"
    assert market_v2.send(guardian, "pause", []) is None
    assert market_v2.purchase(buyer.account, 2, [creator.address], [ETHER]) == "EnforcedPause"
    assert market_v2.claim(creator.account, settlement_id, tree, 0) == "EnforcedPause"
    before = market_v2.w3.eth.get_balance(creator.address)
    assert market_v2.send(creator.account, "withdraw", []) is None  # what was credited still leaves
    assert market_v2.w3.eth.get_balance(creator.address) > before + ETHER - 10**16
    assert market_v2.send(guardian, "unpause", []) == "AccessControlUnauthorizedAccount"
    assert market_v2.send(owner, "unpause", []) is None
    assert market_v2.claim(creator.account, settlement_id, tree, 0) is None
