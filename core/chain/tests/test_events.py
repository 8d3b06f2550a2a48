"""The chain-event indexer and its deliveries, against a real anvil: confirmations, restarts,
failing subscribers, reorgs before and after an event was handled."""

import pytest
from django.db import connection

from core.chain.contracts import MARKET
from core.chain.events import deliveries_run, delivery_retry_now, events_index
from core.chain.models import ChainCursor, ChainEvent, EventDelivery
from core.chain.tests import handlers
from licensing import services
from licensing.models import Licence, Quote
from licensing.tests.helpers import fund, index, mine, offered_work, send_tx
from royalties.models import JournalEntry

pytestmark = pytest.mark.anvil
# Stored too (the record of who held which key when), but not what these tests follow.
KEY_EVENTS = ["RoleGranted", "RoleRevoked", "DefaultAdminTransferScheduled", "Paused", "Unpaused"]
LICENCES = {
    "contract": "LicenseMarket",
    "events": ["LicensePurchased"],
    "handler": "licensing.handlers.on_purchase",
    "undo": "licensing.handlers.on_purchase_orphaned",
}


def _paid(w3, creator, buyer, seed):
    fund(w3, buyer.address)
    _, offer = offered_work(creator, w3=w3, seed=seed)
    quote = services.quote_create(offer=offer, buyer=buyer.user, buyer_address=buyer.address, w3=w3)
    tx = services.quote_transaction(quote=quote, w3=w3)
    receipt = send_tx(w3, buyer.account, tx)
    assert receipt.status == 1
    return quote, receipt


def _sale_events():
    return ChainEvent.objects.exclude(name__in=KEY_EVENTS)


@pytest.fixture
def paid(chain, creator, buyer):
    quote, receipt = _paid(chain, creator, buyer, 500)
    return chain, quote, receipt


@pytest.fixture
def recorder(settings):
    handlers.seen.clear()
    handlers.failures_left["count"] = 0
    settings.CHAIN_SUBSCRIBERS = {
        "licences": LICENCES,
        "recorder": {
            "contract": "LicenseMarket",
            "events": ["LicensePurchased", "Credited"],
            "handler": "core.chain.tests.handlers.record",
            "undo": "core.chain.tests.handlers.record_undo",
        },
    }
    return handlers.seen


def test_no_licence_before_enough_confirmations(paid, settings):
    w3, quote, _ = paid
    settings.CHAIN_CONFIRMATIONS = 3
    index(w3)
    assert Licence.objects.count() == 0 and _sale_events().count() == 0
    mine(w3, 2)
    index(w3)
    assert Licence.objects.count() == 1


def test_the_licence_matches_the_payment_and_its_certificate_verifies(paid, buyer):
    from core.chain.eip712 import typed_data_signer
    from core.chain.keys import platform_signer

    w3, quote, receipt = paid
    mine(w3, 2)
    index(w3)
    licence = Licence.objects.get()
    assert licence.licensee == buyer.user and licence.licensee_address == buyer.address
    assert licence.tx_hash == receipt.transactionHash.to_0x_hex()
    assert int(licence.price_wei) == int(quote.price_wei)
    assert typed_data_signer(licence.certificate, licence.certificate_signature) == platform_signer().address
    quote.refresh_from_db()
    assert quote.status == Quote.Status.PAID
    assert sorted(_sale_events().values_list("name", flat=True)) == [
        "Credited",
        "Credited",
        "LicensePurchased",
    ]
    assert EventDelivery.objects.get(subscriber="licences").status == EventDelivery.Status.DONE
    assert set(EventDelivery.objects.filter(subscriber="ledger").values_list("status", flat=True)) == {"done"}


def test_a_second_read_of_the_same_blocks_changes_nothing(paid):
    w3, _, _ = paid
    mine(w3, 2)
    assert index(w3) == 3 + 5  # the sale's, and the five RoleGranted of the deployment
    ChainCursor.objects.update(block_number=0, block_hash="")  # a restart that lost the cursor
    assert index(w3) == 0
    assert Licence.objects.count() == 1 and _sale_events().count() == 3
    assert EventDelivery.objects.count() == 3  # licences: LicensePurchased; ledger: two Credited
    assert JournalEntry.objects.count() == 2  # one sale entry per Credited, not doubled


def test_a_reorg_below_the_cursor_rewinds_and_reads_again_without_doubling(paid):
    w3, _, _ = paid
    mine(w3, 2)
    index(w3)
    ChainCursor.objects.update(block_hash="0x" + "00" * 32)  # as if the cursor's block was replaced
    index(w3)
    assert Licence.objects.count() == 1 and _sale_events().count() == 3
    assert ChainCursor.objects.get().block_hash != "0x" + "00" * 32
    assert not _sale_events().filter(orphaned=True).exists()  # the events' own blocks did not change


def test_a_failing_handler_keeps_its_event_and_the_next_delivery_succeeds(paid, settings, recorder):
    w3, _, _ = paid
    handlers.failures_left["count"] = 1
    settings.CHAIN_SUBSCRIBERS = {
        **settings.CHAIN_SUBSCRIBERS,
        "flaky": {
            "contract": "LicenseMarket",
            "events": ["LicensePurchased"],
            "handler": "core.chain.tests.handlers.flaky",
        },
    }
    mine(w3, 2)
    index(w3)

    flaky = EventDelivery.objects.get(subscriber="flaky")
    assert flaky.status == EventDelivery.Status.PENDING and flaky.attempts == 1
    assert "IntegrityError" in flaky.last_error and flaky.next_attempt_at is not None
    assert _sale_events().filter(name="LicensePurchased").exists()  # the event was kept
    assert Licence.objects.count() == 1  # the other subscribers were not held up
    assert EventDelivery.objects.filter(subscriber="recorder", status="done").count() == 3

    result = delivery_retry_now(delivery=flaky)  # admin's "retry now"
    assert result.status == EventDelivery.Status.DONE and result.last_error == ""
    assert handlers.seen.count("flaky:LicensePurchased") == 2


def test_a_broken_subscriber_backs_off_and_holds_up_no_later_event(chain, creator, buyer, settings, recorder):
    settings.CHAIN_SUBSCRIBERS = {
        **settings.CHAIN_SUBSCRIBERS,
        "broken": {
            "contract": "LicenseMarket",
            "events": ["LicensePurchased"],
            "handler": "core.chain.tests.handlers.broken",
        },
    }
    _paid(chain, creator, buyer, 510)
    mine(chain, 2)
    index(chain)
    first = EventDelivery.objects.get(subscriber="broken")
    next_try = first.next_attempt_at
    assert deliveries_run()["failed"] == 0  # not due yet: backoff
    _paid(chain, creator, buyer, 511)
    mine(chain, 2)
    index(chain)
    assert Licence.objects.count() == 2
    assert EventDelivery.objects.filter(subscriber="broken", status="pending").count() == 2
    first.refresh_from_db()
    assert first.attempts == 1 and first.next_attempt_at == next_try


def test_the_admin_lists_failures_and_retries_them(paid, settings, recorder, admin_client):
    w3, _, _ = paid
    settings.CHAIN_SUBSCRIBERS = {
        **settings.CHAIN_SUBSCRIBERS,
        "broken": {
            "contract": "LicenseMarket",
            "events": ["LicensePurchased"],
            "handler": "core.chain.tests.handlers.broken",
        },
    }
    mine(w3, 2)
    index(w3)
    delivery = EventDelivery.objects.get(subscriber="broken")
    listing = admin_client.get("/admin/chain/eventdelivery/?status=pending").content.decode()
    assert "this subscriber is broken" in listing
    response = admin_client.post(
        "/admin/chain/eventdelivery/", {"action": "retry_now", "_selected_action": [delivery.pk]}, follow=True
    )
    assert "Retried: 1 pending." in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.attempts == 2


def test_a_purchase_reorganised_away_after_its_licence_voids_it_and_a_remine_restores_it(
    private_chain, creator, buyer, recorder
):
    w3 = private_chain
    quote, receipt = _paid(w3, creator, buyer, 520)
    raw = w3.eth.get_raw_transaction(receipt.transactionHash)
    mine(w3, 2)
    index(w3)
    licence = Licence.objects.get()
    assert licence.status == Licence.Status.VALID

    # The block with the payment and the two after it are replaced; the payment is not re-mined.
    w3.provider.make_request("evm_setAutomine", [False])
    w3.provider.make_request("anvil_reorg", [3, []])
    w3.provider.make_request("anvil_dropAllTransactions", [])
    mine(w3, 1)
    index(w3)

    licence.refresh_from_db()
    assert licence.status == Licence.Status.VOID and "reorganised away" in licence.void_reason
    quote.refresh_from_db()
    assert quote.status == Quote.Status.OPEN
    assert _sale_events().filter(orphaned=True).count() == 3
    assert sorted(s for s in recorder if s.startswith("undo:")) == [
        "undo:Credited:1",
        "undo:Credited:1",
        "undo:LicensePurchased:1",
    ]

    # The same payment is mined again: the same events come back as generation 2.
    w3.eth.send_raw_transaction(raw)
    mine(w3, 3)
    index(w3)
    licence.refresh_from_db()
    assert licence.status == Licence.Status.VALID
    assert set(_sale_events().values_list("generation", "orphaned")) == {(2, False)}
    assert "record:LicensePurchased:2" in recorder


def test_events_are_read_outside_any_database_transaction(paid, monkeypatch):
    """Chain reads never hold the database's write lock while waiting on the node."""
    w3, _, _ = paid
    mine(w3, 2)
    calls = []
    original = w3.manager.request_blocking

    def spy(method, params, *args, **kwargs):
        calls.append((method, connection.in_atomic_block))
        return original(method, params, *args, **kwargs)

    monkeypatch.setattr(w3.manager, "request_blocking", spy)
    events_index(contract_name=MARKET, w3=w3)
    assert calls and not [method for method, atomic in calls if atomic]


def test_a_reorg_while_the_cursor_was_lost_is_still_undone(private_chain, creator, buyer, recorder):
    """Found by the ledger state machine: with no cursor there is no block hash to compare, so
    the range re-read itself must notice that a stored event's block is gone."""
    w3 = private_chain
    mine(w3, 3)
    quote, receipt = _paid(w3, creator, buyer, 530)
    mine(w3, 2)
    index(w3)
    assert Licence.objects.get().status == Licence.Status.VALID
    ChainCursor.objects.all().delete()  # a restart that lost the cursor...
    w3.provider.make_request(
        "anvil_reorg", [w3.eth.block_number - receipt.blockNumber + 1, []]
    )  # ...and a reorg
    mine(w3, 3)
    index(w3)
    assert Licence.objects.get().status == Licence.Status.VOID
    assert set(_sale_events().values_list("orphaned", flat=True)) == {True}
