"""A hypothesis state machine over the money path against the real LicenseMarket on anvil:
purchases (with a co-creator and an upstream work), withdrawals, indexing, deliveries that run
twice or fail, and reorgs. After every step: every entry balances, nothing is posted twice, and
whenever the ledger has caught up with the indexer, every payee's ledger balance equals the
contract's at that block (and the contract's ether equals what the ledger says it owes)."""

import pytest
from django.db import connection
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from core.chain.contracts import MARKET, contract, contracts_ensure_deployed, deployment_block
from core.chain.events import deliveries_run, events_index
from core.chain.models import ChainCursor, ChainEvent, EventDelivery
from core.chain.reverts import revert_error
from core.chain.tests import handlers
from licensing import services as licensing
from licensing.terms import PRESETS
from licensing.tests.helpers import fund, send_tx
from royalties.ledger import entries_unbalanced
from royalties.models import JournalEntry, LedgerAccount
from royalties.reconciliation import _ledger_balances
from royalties.tests.factories import licence_row, sheet_row, work_row
from works.models import DerivationLink

pytestmark = pytest.mark.anvil
Kind = LedgerAccount.Kind
WIPE = [
    "chain_eventdelivery",
    "royalties_journalline",
    "royalties_journalentry",
    "royalties_earningsday",
    "royalties_ledgeraccount",
    "chain_wallettransaction",
    "royalties_reconciliationrun",
    "licensing_licence",
    "licensing_quote",
    "licensing_catalogueentry",
    "licensing_offer",
    "works_derivationlink",
    "royalties_splitparty",
    "royalties_splitsheet",
    "works_fingerprintchange",
    "works_registration",
    "works_work",
    "chain_chainevent",
    "chain_chaincursor",
]


def _wipe():
    """Start an example from nothing (the ledger refuses DELETE through its models on purpose)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(WIPE)} CASCADE")
        else:
            cursor.execute("PRAGMA foreign_keys = OFF")
            for table in WIPE:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
            cursor.execute("PRAGMA foreign_keys = ON")


def test_the_ledger_mirrors_the_contract_through_any_sequence(
    anvil_factory, settings_override, creator, co_creator, upstream_creator, buyer, outsider
):
    w3 = settings_override
    contracts_ensure_deployed(w3=w3)
    for persona in (creator, co_creator, upstream_creator, buyer, outsider):
        fund(w3, persona.address, eth=1000)
    clean = {"snapshot": w3.provider.make_request("evm_snapshot", [])["result"]}
    market = contract(w3=w3, name=MARKET)
    # reorgs stay above everything deployed (the market, then the stablecoin and its grants)
    deployed = max(deployment_block(w3=w3, name=MARKET), w3.eth.block_number)
    buyers = [buyer, outsider]
    payees = [creator, co_creator, upstream_creator]

    class LedgerMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            w3.provider.make_request("evm_revert", [clean["snapshot"]])
            clean["snapshot"] = w3.provider.make_request("evm_snapshot", [])["result"]
            _wipe()
            handlers.failures_left["count"] = 0
            upstream = work_row(upstream_creator.user, upstream_creator.address, title="Upstream")
            remix = work_row(creator.user, creator.address, title="Remix")
            DerivationLink.objects.create(
                child=remix,
                parent=upstream,
                licence=licence_row(upstream, creator.user, creator.address, share_bps=1500),
                share_bps=1500,
            )
            sheet_row(remix, [(co_creator.address, 3333, "colourist")])
            solo = work_row(co_creator.user, co_creator.address, title="Solo")
            self.offers = [
                licensing.offer_create(work=remix, terms=PRESETS["ai_training"][1], preset="ai_training"),
                licensing.offer_create(
                    work=solo, terms=PRESETS["commercial_use"][1], preset="commercial_use"
                ),
            ]
            self.purchases = 0

        @rule(who=st.sampled_from([0, 1]), which=st.sampled_from([0, 1]), mask=st.sampled_from([1, 3, 7]))
        def purchase(self, who, which, mask):
            offer = self.offers[which]
            if which == 1:
                mask = 1  # commercial use has no AI uses to sell
            person = buyers[who]
            try:
                quote = licensing.quote_create(
                    offer=offer, buyer=person.user, buyer_address=person.address, w3=w3, uses_mask=mask
                )
            except licensing.LicensingError:
                return  # already licensed for these uses: refused, as it should be
            receipt = send_tx(w3, person.account, licensing.quote_transaction(quote=quote, w3=w3))
            if receipt.status == 0:
                # The same open quote is handed out again until its payment is indexed: paying it
                # twice is refused by the contract, never charged twice.
                assert revert_error(w3, receipt.transactionHash, contract_name=MARKET) == "QuoteAlreadyUsed"
                return
            self.purchases += 1

        @rule(who=st.sampled_from([0, 1]), which=st.sampled_from([0, 1]), mask=st.sampled_from([1, 3, 7]))
        def purchase_and_settle(self, who, which, mask):
            self.purchase(who, which, mask)
            self.confirm_index_and_deliver()

        @rule(who=st.sampled_from([0, 1, 2]))
        def withdraw(self, who):
            person = payees[who]
            if market.functions.balanceOf(person.address).call():
                call = {"to": market.address, "data": market.encode_abi("withdraw", args=[]), "value": 0}
                assert send_tx(w3, person.account, call).status == 1

        @rule(blocks=st.integers(min_value=1, max_value=3))
        def mine(self, blocks):
            for _ in range(blocks):
                w3.provider.make_request("evm_mine", [])

        @rule()
        def index(self):
            events_index(contract_name=MARKET, w3=w3)

        @rule()
        def deliver(self):
            deliveries_run(now=_far_future())

        @rule()
        def confirm_index_and_deliver(self):
            """What a few beat ticks do: blocks accrue, the indexer reads, deliveries run."""
            for _ in range(2):
                w3.provider.make_request("evm_mine", [])
            events_index(contract_name=MARKET, w3=w3)
            deliveries_run(now=_far_future())

        @rule()
        def read_everything_again(self):
            """A restart that lost the cursor reads every block again: nothing may double."""
            ChainCursor.objects.all().delete()
            events_index(contract_name=MARKET, w3=w3)

        @rule(times=st.integers(min_value=1, max_value=3))
        def ledger_fails_for_a_while(self, times):
            handlers.failures_left["count"] = times

        @precondition(lambda self: self.purchases > 0)
        @rule(depth=st.integers(min_value=1, max_value=5), notice=st.booleans())
        def reorg(self, depth, notice):
            """The last `depth` blocks are replaced by empty ones (their transactions are gone);
            with `notice`, the indexer runs at once and must undo what it had handled."""
            if w3.eth.block_number <= deployed + depth:
                return
            w3.provider.make_request("anvil_reorg", [depth, []])
            if notice:
                self.confirm_index_and_deliver()

        @invariant()
        def entries_balance_and_nothing_doubles(self):
            assert entries_unbalanced() == []
            keys = list(JournalEntry.objects.values_list("key", flat=True))
            assert len(keys) == len(set(keys))
            for event in ChainEvent.objects.filter(name__in=["Credited", "Withdrawn"]):
                posted = JournalEntry.objects.filter(chain_event=event).exclude(kind="reversal").count()
                reversed_ = JournalEntry.objects.filter(chain_event=event, kind="reversal").count()
                assert reversed_ <= posted <= event.generation

        @invariant()
        def when_caught_up_the_ledger_equals_the_contract(self):
            cursor = ChainCursor.objects.filter(contract=market.address).first()
            waiting = EventDelivery.objects.filter(status__in=["pending", "undo"]).exists()
            if cursor is None or cursor.block_number < deployed or waiting:
                return
            try:
                w3.eth.get_block(cursor.block_number)
            except Exception:  # the cursor's block was reorganised away; the next index rewinds
                return
            if w3.eth.get_block(cursor.block_number)["hash"].to_0x_hex() != cursor.block_hash:
                return
            block = cursor.block_number
            credited = _ledger_balances(Kind.CREDITED)
            for person in payees:
                chain_balance = market.functions.balanceOf(person.address).call(block_identifier=block)
                assert credited.get(person.address, 0) == chain_balance, person.name
            owed = sum(credited.values())
            assert owed == market.functions.totalCredited().call(block_identifier=block)
            assert owed == w3.eth.get_balance(market.address, block_identifier=block)

        def teardown(self):
            handlers.failures_left["count"] = 0

    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=25,
            deadline=None,
            derandomize=True,  # the same 30 sequences every run: CI stays reproducible
            suppress_health_check=list(HealthCheck),
        ),
    )


def _far_future():
    from datetime import timedelta

    from django.utils import timezone

    return timezone.now() + timedelta(days=3650)


@pytest.fixture
def settings_override(anvil_factory, settings, transactional_db):
    """A private anvil, and a ledger subscriber that can be told to fail for a while."""
    from core.chain.client import get_web3

    settings.CHAIN_RPC_URL = anvil_factory()
    settings.CHAIN_CONFIRMATIONS = 2
    settings.CHAIN_SUBSCRIBERS = {
        **settings.CHAIN_SUBSCRIBERS,
        "ledger": {
            **settings.CHAIN_SUBSCRIBERS["ledger"],
            "handler": "core.chain.tests.handlers.flaky_ledger",
        },
    }
    return get_web3()
