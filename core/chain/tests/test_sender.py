"""The one transaction sender, on its own: nonces, store-before-broadcast, receipts, reverts,
and which chain errors mean a reorg (only a block that is no longer there)."""

import pytest
from django.db import transaction
from web3 import Web3

from core.chain.contracts import REGISTRY, contract
from core.chain.models import ChainTransaction, SenderNonce
from core.chain.sender import sender_context, transaction_refresh, transaction_send

pytestmark = pytest.mark.anvil
Status = ChainTransaction.Status


def _anchor(ctx, root, **kwargs):
    registry = contract(w3=ctx.w3, name=REGISTRY)
    return transaction_send(
        purpose="test",
        to=registry.address,
        data=registry.encode_abi("anchor", args=[root]),
        ctx=ctx,
        **kwargs,
    )


def test_nonces_follow_each_other_and_every_attempt_is_stored_before_broadcast(private_chain):
    ctx = sender_context(w3=private_chain)
    private_chain.provider.make_request("evm_setAutomine", [False])
    first = _anchor(ctx, b"\x01" * 32)
    second = _anchor(ctx, b"\x02" * 32)
    assert second.nonce == first.nonce + 1
    assert SenderNonce.objects.get().next_nonce == second.nonce + 1
    for tx in (first, second):
        assert tx.status == Status.BROADCAST
        assert tx.attempts[0]["hash"] == tx.tx_hash and tx.attempts[0]["raw"].startswith("0x")
        assert private_chain.eth.get_transaction(tx.tx_hash)["nonce"] == tx.nonce


def test_a_link_that_refuses_abandons_the_send_and_releases_the_nonce(private_chain):
    ctx = sender_context(w3=private_chain)

    def refuse(tx):
        raise LookupError("someone else sent it")

    before = private_chain.eth.get_transaction_count(ctx.account.address, "pending")
    with pytest.raises(LookupError):
        _anchor(ctx, b"\x03" * 32, on_stored=refuse)
    assert ChainTransaction.objects.count() == 0
    assert private_chain.eth.get_transaction_count(ctx.account.address, "pending") == before  # nothing sent
    assert _anchor(ctx, b"\x03" * 32).nonce == before  # the nonce was not used up


def test_sending_inside_a_database_transaction_is_refused(private_chain):
    ctx = sender_context(w3=private_chain)
    with pytest.raises(RuntimeError, match="outside atomic"), transaction.atomic():
        _anchor(ctx, b"\x04" * 32)


def test_receipts_confirmations_and_reverts(private_chain):
    ctx = sender_context(w3=private_chain)
    ok = _anchor(ctx, b"\x05" * 32)  # automine: mined at once
    assert transaction_refresh(tx=ok, ctx=ctx).status == Status.MINED
    private_chain.provider.make_request("evm_mine", [])
    assert transaction_refresh(tx=ok, ctx=ctx).status == Status.CONFIRMED
    again = _anchor(ctx, b"\x05" * 32, gas=200_000)  # RootAlreadyAnchored: reverts
    refreshed = transaction_refresh(tx=again, ctx=ctx)
    assert refreshed.status == Status.FAILED and refreshed.gas_used


def test_only_a_missing_block_counts_as_a_reorg(private_chain, monkeypatch):
    ctx = sender_context(w3=private_chain)
    sent = _anchor(ctx, b"\x06" * 32)
    private_chain.eth.wait_for_transaction_receipt(sent.tx_hash, timeout=30)  # automine, but under load
    tx = transaction_refresh(tx=sent, ctx=ctx)
    assert tx.status == Status.MINED

    def flaky_node(*args, **kwargs):
        raise OSError("connection reset by peer")

    monkeypatch.setattr(private_chain.eth, "get_block", flaky_node)
    with pytest.raises(OSError):
        transaction_refresh(tx=tx, ctx=ctx)
    tx.refresh_from_db()
    assert tx.status == Status.MINED and tx.block_number is not None  # not mistaken for a reorg
    assert Web3.is_checksum_address(tx.sender)
