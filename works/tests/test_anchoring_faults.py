"""Anchoring never sends twice and never loses a registration, against a real anvil:
RPC down, a worker killed around the broadcast, a dropped or stuck transaction, a reorg."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.chain.anvil import free_port
from core.chain.client import get_web3, web3_for_url
from core.chain.contracts import REGISTRY, contract, contracts_ensure_deployed
from core.chain.models import ChainTransaction
from core.chain.sender import sender_context
from works import anchoring
from works.models import AnchorBatch, Registration

pytestmark = pytest.mark.anvil
Status = Registration.Status
LATER = timedelta(seconds=3600)


@pytest.fixture
def manual_chain(anvil_factory, settings, transactional_db):
    """A private anvil whose blocks are mined only when the test says so."""
    url = anvil_factory()
    settings.CHAIN_RPC_URL = url
    settings.CHAIN_CONFIRMATIONS = 2
    settings.PROVENANCE_REGISTRY_ADDRESS = ""
    w3 = get_web3()
    contracts_ensure_deployed(w3=w3)
    w3.provider.make_request("evm_setAutomine", [False])
    return w3


@pytest.fixture
def register(manual_chain):
    """Registrations signed against this test's private chain (not the shared one)."""
    from tests.fixtures.chain import register_work

    def _register(persona, *, seed, title=None, w3=None):
        return register_work(persona, seed=seed, w3=w3 or manual_chain, title=title)

    return _register


def mine(w3, blocks=1):
    for _ in range(blocks):
        w3.provider.make_request("evm_mine", [])


def tick(w3, **kwargs):
    return anchoring.anchor_tick(ctx=sender_context(w3=w3), now=timezone.now() + LATER, **kwargs)


def pending_count(w3, address):
    return w3.eth.get_transaction_count(address, "pending") - w3.eth.get_transaction_count(address, "latest")


def finish(w3):
    """Mine until the batch is confirmed, refreshing after every block."""
    for _ in range(4):
        mine(w3)
        tick(w3)
    return AnchorBatch.objects.get()


def test_rpc_down_loses_nothing_and_the_next_tick_anchors(register, manual_chain, creator):
    work = register(creator, seed=1, w3=manual_chain)
    dead = web3_for_url(f"http://127.0.0.1:{free_port()}", timeout=1)

    with pytest.raises(OSError):
        anchoring.anchor_tick(ctx=sender_context(w3=dead), now=timezone.now() + LATER)

    work.registration.refresh_from_db()
    assert work.registration.status == Status.PENDING
    assert AnchorBatch.objects.count() == 0 and ChainTransaction.objects.count() == 0

    tick(manual_chain)
    batch = finish(manual_chain)
    assert batch.status == AnchorBatch.Status.CONFIRMED
    work.registration.refresh_from_db()
    assert work.registration.status == Status.CONFIRMED


def test_a_worker_killed_after_broadcast_does_not_resend_with_a_new_nonce(register, manual_chain, creator):
    register(creator, seed=2, w3=manual_chain)
    tick(manual_chain)
    tx = ChainTransaction.objects.get()
    # The database lost the "broadcast" write: as far as it knows, the transaction was only signed.
    ChainTransaction.objects.filter(pk=tx.pk).update(
        status=ChainTransaction.Status.SIGNED, last_broadcast_at=None
    )

    tick(manual_chain)  # the restarted worker

    again = ChainTransaction.objects.get()
    assert again.hashes == tx.hashes and again.nonce == tx.nonce
    assert again.status == ChainTransaction.Status.BROADCAST
    assert pending_count(manual_chain, tx.sender) == 1
    assert finish(manual_chain).status == AnchorBatch.Status.CONFIRMED
    assert ChainTransaction.objects.count() == 1


def test_a_transaction_the_node_never_got_is_rebroadcast_with_the_same_hash(register, manual_chain, creator):
    register(creator, seed=3, w3=manual_chain)
    tick(manual_chain)
    tx = ChainTransaction.objects.get()
    manual_chain.provider.make_request("anvil_dropTransaction", [tx.tx_hash])
    assert pending_count(manual_chain, tx.sender) == 0

    tick(manual_chain)

    assert manual_chain.eth.get_transaction(tx.tx_hash)["nonce"] == tx.nonce
    assert ChainTransaction.objects.get().hashes == [tx.tx_hash]
    assert finish(manual_chain).status == AnchorBatch.Status.CONFIRMED


def test_a_stuck_transaction_gets_a_fee_bump_at_the_same_nonce(register, manual_chain, creator, settings):
    register(creator, seed=4, w3=manual_chain)
    tick(manual_chain)
    first = ChainTransaction.objects.get()
    settings.CHAIN_STUCK_AFTER_SECONDS = 0

    tick(manual_chain)

    bumped = ChainTransaction.objects.get()
    assert len(bumped.attempts) == 2 and bumped.nonce == first.nonce
    assert bumped.max_fee_per_gas > first.max_fee_per_gas
    assert bumped.max_priority_fee_per_gas > first.max_priority_fee_per_gas
    settings.CHAIN_STUCK_AFTER_SECONDS = 3600
    batch = finish(manual_chain)
    assert batch.status == AnchorBatch.Status.CONFIRMED
    assert ChainTransaction.objects.get().mined_hash == bumped.attempts[1]["hash"]


def test_a_reorg_of_the_anchoring_block_sends_it_back_and_anchors_it_again(register, manual_chain, creator):
    work = register(creator, seed=5, w3=manual_chain)
    tick(manual_chain)
    mine(manual_chain)
    tick(manual_chain)
    work.registration.refresh_from_db()
    assert work.registration.status == Status.MINED
    mined_block = ChainTransaction.objects.get().block_number

    manual_chain.provider.make_request("anvil_reorg", [1, []])  # the anchoring block is gone
    tick(manual_chain)

    work.registration.refresh_from_db()
    assert work.registration.status == Status.SENT
    assert ChainTransaction.objects.get().status == ChainTransaction.Status.BROADCAST
    assert pending_count(manual_chain, creator.address) == 0  # it is our sender's, not the creator's
    batch = finish(manual_chain)
    assert batch.status == AnchorBatch.Status.CONFIRMED
    assert ChainTransaction.objects.get().block_number >= mined_block
    registry = contract(w3=manual_chain, name=REGISTRY)
    assert registry.functions.anchoredAt(batch.root).call() != 0
    work.registration.refresh_from_db()
    assert work.registration.status == Status.CONFIRMED


def test_a_root_already_on_chain_is_not_sent_again(register, manual_chain, creator):
    register(creator, seed=6, w3=manual_chain)
    batch = anchoring.batch_seal(w3=manual_chain)
    registry = contract(w3=manual_chain, name=REGISTRY)
    ctx = sender_context(w3=manual_chain)
    # Someone (an earlier run that died before recording it) anchored this root already.
    tx = registry.functions.anchor(batch.root).build_transaction(
        {"from": ctx.account.address, "nonce": manual_chain.eth.get_transaction_count(ctx.account.address)}
    )
    manual_chain.eth.send_raw_transaction(ctx.account.sign_transaction(tx).raw_transaction)
    mine(manual_chain)

    batch = anchoring.batch_send(batch=batch, ctx=ctx)

    assert batch.status == AnchorBatch.Status.CONFIRMED
    assert batch.block_timestamp is not None
    assert ChainTransaction.objects.count() == 0
    assert set(batch.registrations.values_list("status", flat=True)) == {Status.CONFIRMED}
