"""The chain-event indexer issues each licence once, after confirmations, across restarts."""

import pytest

from licensing import services
from licensing.models import Licence, Quote
from licensing.tests.helpers import fund, index, mine, offered_work, send_tx
from portal.chain.models import ChainCursor, ChainEvent

pytestmark = pytest.mark.anvil


@pytest.fixture
def paid(chain, creator, buyer):
    fund(chain, buyer.address)
    work, offer = offered_work(creator, w3=chain, seed=500)
    quote = services.quote_create(offer=offer, buyer=buyer.user, buyer_address=buyer.address, w3=chain)
    receipt = send_tx(chain, buyer.account, services.quote_transaction(quote=quote, w3=chain))
    assert receipt.status == 1
    return chain, quote, receipt


def test_no_licence_before_enough_confirmations(paid, settings):
    w3, quote, _ = paid
    settings.CHAIN_CONFIRMATIONS = 3
    index(w3)
    assert Licence.objects.count() == 0
    mine(w3, 2)
    index(w3)
    assert Licence.objects.count() == 1


def test_the_licence_matches_the_payment_and_its_certificate_verifies(paid, buyer, settings):
    from eth_account import Account

    from portal.chain.eip712 import typed_data_signer as signer_of

    w3, quote, receipt = paid
    mine(w3, 2)
    index(w3)
    licence = Licence.objects.get()
    assert licence.licensee == buyer.user and licence.licensee_address == buyer.address
    assert licence.tx_hash == receipt.transactionHash.to_0x_hex()
    assert int(licence.price_wei) == int(quote.price_wei)
    assert (
        signer_of(licence.certificate, licence.certificate_signature)
        == Account.from_key(settings.PLATFORM_SIGNING_KEY).address
    )
    quote.refresh_from_db()
    assert quote.status == Quote.Status.PAID
    names = sorted(ChainEvent.objects.values_list("name", flat=True))
    assert names == ["Credited", "Credited", "LicensePurchased"]


def test_a_second_delivery_of_the_same_event_changes_nothing(paid):
    w3, _, _ = paid
    mine(w3, 2)
    assert index(w3) == 3
    # A restart that lost the cursor reads the same blocks again.
    ChainCursor.objects.update(block_number=0, block_hash="")
    assert index(w3) == 0
    assert Licence.objects.count() == 1 and ChainEvent.objects.count() == 3


def test_a_reorg_below_the_cursor_rewinds_and_reads_again_without_doubling(paid):
    w3, _, _ = paid
    mine(w3, 2)
    index(w3)
    ChainCursor.objects.update(block_hash="0x" + "00" * 32)  # as if the cursor's block was replaced
    index(w3)
    assert Licence.objects.count() == 1 and ChainEvent.objects.count() == 3
    assert ChainCursor.objects.get().block_hash != "0x" + "00" * 32
