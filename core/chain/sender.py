"""The one code path that sends transactions.

1. A nonce is assigned under a row lock (`SenderNonce`), so concurrent workers never share one.
2. The transaction is signed locally and its hash and raw bytes are committed *before* it is
   broadcast: a worker killed between broadcast and database write finds them on restart and
   re-sends the same bytes (same nonce, same hash), never a new transaction.
3. `transaction_refresh` moves a transaction along: finds receipts for any attempt, counts
   confirmations, notices a reorg (the block hash at its height changed) and puts it back to
   broadcast, re-sends a dropped transaction, and bumps the fee of a stuck one at the same nonce.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from eth_account import Account
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import BlockNotFound, TransactionNotFound

from core.chain.client import get_web3
from core.chain.models import ChainTransaction, SenderNonce

logger = logging.getLogger(__name__)

FEE_BUMP_NUMERATOR = 1125  # +12.5%: nodes require at least +10% to replace a pending transaction
FEE_BUMP_DENOMINATOR = 1000
DEFAULT_PRIORITY_FEE = Web3.to_wei(1, "gwei")
Status = ChainTransaction.Status


@dataclass
class SenderContext:
    w3: Web3
    account: LocalAccount
    confirmations: int
    stuck_after: timedelta


def sender_context(*, w3: Web3 | None = None, account: LocalAccount | None = None) -> SenderContext:
    return SenderContext(
        w3=w3 or get_web3(),
        account=account or Account.from_key(settings.CHAIN_SENDER_PRIVATE_KEY),
        confirmations=settings.CHAIN_CONFIRMATIONS,
        stuck_after=timedelta(seconds=settings.CHAIN_STUCK_AFTER_SECONDS),
    )


def _fees(w3: Web3) -> tuple[int, int]:
    base = w3.eth.get_block("latest").get("baseFeePerGas") or 0
    try:
        priority = w3.eth.max_priority_fee
    except Exception:  # not every node implements eth_maxPriorityFeePerGas
        priority = DEFAULT_PRIORITY_FEE
    priority = max(priority, 1)
    return 2 * base + priority, priority


def _sign(ctx: SenderContext, tx: ChainTransaction, *, max_fee: int, priority_fee: int) -> dict:
    signed = ctx.account.sign_transaction(
        {
            "type": 2,
            "chainId": tx.chain_id,
            "nonce": tx.nonce,
            "to": tx.to,
            "data": tx.data,
            "value": int(tx.value),
            "gas": tx.gas,
            "maxFeePerGas": max_fee,
            "maxPriorityFeePerGas": priority_fee,
        }
    )
    return {
        "hash": Web3.to_hex(signed.hash),
        "raw": Web3.to_hex(signed.raw_transaction),
        "max_fee": max_fee,
        "priority_fee": priority_fee,
        "at": timezone.now().isoformat(),
    }


def _broadcast(ctx: SenderContext, tx: ChainTransaction) -> None:
    raw = tx.attempts[-1]["raw"]
    try:
        ctx.w3.eth.send_raw_transaction(HexBytes(raw))
    except ValueError as exc:  # JSON-RPC errors arrive as ValueError / Web3RPCError
        text = str(exc).lower()
        if "already known" in text or "already imported" in text or "nonce too low" in text:
            logger.info("transaction %s already with the node: %s", tx.tx_hash, exc)
        else:
            raise
    ChainTransaction.objects.filter(pk=tx.pk, status=Status.SIGNED).update(status=Status.BROADCAST)
    ChainTransaction.objects.filter(pk=tx.pk).update(last_broadcast_at=timezone.now())
    tx.refresh_from_db()


def transaction_send(
    *,
    purpose: str,
    to: str,
    data: str,
    value: int = 0,
    gas: int | None = None,
    ctx: SenderContext | None = None,
    on_stored=None,
) -> ChainTransaction:
    """Assign a nonce, sign, store, then broadcast. Returns the stored transaction.

    `on_stored(tx)` runs inside the database transaction that stores the signed transaction,
    so the caller's link to it (e.g. a batch's `transaction`) commits together with it, before
    anything is broadcast. It may raise to abandon the send (the nonce is released too).
    Must not be called inside an outer `transaction.atomic()`: the point is to commit first.
    """
    if transaction.get_connection().in_atomic_block:
        raise RuntimeError("transaction_send must commit before broadcasting; call it outside atomic()")
    ctx = ctx or sender_context()
    w3, address = ctx.w3, ctx.account.address
    chain_id = w3.eth.chain_id
    to = Web3.to_checksum_address(to)
    if gas is None:
        gas = int(w3.eth.estimate_gas({"from": address, "to": to, "data": data, "value": value}) * 12 // 10)
    max_fee, priority_fee = _fees(w3)
    with transaction.atomic():
        row, _ = SenderNonce.objects.select_for_update().get_or_create(
            chain_id=chain_id, address=address, defaults={"next_nonce": 0}
        )
        nonce = max(row.next_nonce, w3.eth.get_transaction_count(address, "latest"))
        row.next_nonce = nonce + 1
        row.save(update_fields=["next_nonce"])
        tx = ChainTransaction(
            chain_id=chain_id,
            sender=address,
            nonce=nonce,
            purpose=purpose,
            to=to,
            data=data,
            value=value,
            gas=gas,
            max_fee_per_gas=max_fee,
            max_priority_fee_per_gas=priority_fee,
        )
        attempt = _sign(ctx, tx, max_fee=max_fee, priority_fee=priority_fee)
        tx.attempts = [attempt]
        tx.tx_hash = attempt["hash"]
        tx.save()
        if on_stored is not None:
            on_stored(tx)
    _broadcast(ctx, tx)
    return tx


def _receipt(w3: Web3, tx: ChainTransaction):
    for tx_hash in reversed(tx.hashes):
        try:
            return w3.eth.get_transaction_receipt(tx_hash)
        except TransactionNotFound:
            continue
    return None


def _known_to_node(w3: Web3, tx_hash: str) -> bool:
    try:
        w3.eth.get_transaction(tx_hash)
        return True
    except TransactionNotFound:
        return False


def transaction_bump_fee(*, tx: ChainTransaction, ctx: SenderContext) -> ChainTransaction:
    """Re-sign at the same nonce with fees raised by 12.5% (or to the market, if higher)."""
    market_max, market_priority = _fees(ctx.w3)
    max_fee = max(int(tx.max_fee_per_gas) * FEE_BUMP_NUMERATOR // FEE_BUMP_DENOMINATOR + 1, market_max)
    priority = max(
        int(tx.max_priority_fee_per_gas) * FEE_BUMP_NUMERATOR // FEE_BUMP_DENOMINATOR + 1, market_priority
    )
    attempt = _sign(ctx, tx, max_fee=max_fee, priority_fee=priority)
    tx.attempts = [*tx.attempts, attempt]
    tx.tx_hash = attempt["hash"]
    tx.max_fee_per_gas, tx.max_priority_fee_per_gas = max_fee, priority
    tx.status = Status.SIGNED
    tx.save(update_fields=["attempts", "tx_hash", "max_fee_per_gas", "max_priority_fee_per_gas", "status"])
    _broadcast(ctx, tx)
    return tx


OPEN_STATUSES = (Status.SIGNED, Status.BROADCAST, Status.MINED)


def transactions_refresh(*, ctx: SenderContext | None = None, skip_purposes=("anchor:",)) -> int:
    """Move along every transaction still open: one a worker stored but was killed before
    broadcasting, one the node dropped, one stuck, one waiting for confirmations. Anchoring
    follows its own batches (their state moves with the transaction), so it is skipped here."""
    ctx = ctx or sender_context()
    rows = ChainTransaction.objects.filter(
        chain_id=ctx.w3.eth.chain_id, sender=ctx.account.address, status__in=OPEN_STATUSES
    ).order_by("nonce")
    for prefix in skip_purposes:
        rows = rows.exclude(purpose__startswith=prefix)
    refreshed = 0
    for tx in rows[:200]:
        transaction_refresh(tx=tx, ctx=ctx)
        refreshed += 1
    return refreshed


def transaction_refresh(*, tx: ChainTransaction, ctx: SenderContext | None = None) -> ChainTransaction:
    """Advance one transaction by what the chain says now. Safe to call any number of times."""
    ctx = ctx or sender_context()
    w3 = ctx.w3
    tx.refresh_from_db()
    if tx.status in (Status.MINED, Status.CONFIRMED, Status.FAILED) and tx.block_number is not None:
        try:
            canonical = w3.eth.get_block(tx.block_number)
        except BlockNotFound:  # the chain is now shorter than our block: it was reorganised away
            canonical = None
        if canonical is None or Web3.to_hex(canonical["hash"]) != tx.block_hash:
            logger.warning("block %s of %s was reorganised away", tx.block_number, tx)
            tx.status = Status.BROADCAST
            tx.block_number, tx.block_hash, tx.mined_hash, tx.gas_used = None, "", "", None
            tx.save(update_fields=["status", "block_number", "block_hash", "mined_hash", "gas_used"])

    if tx.status in (Status.SIGNED, Status.BROADCAST):
        receipt = _receipt(w3, tx)
        if receipt is not None:
            tx.status = Status.MINED if receipt["status"] == 1 else Status.FAILED
            tx.block_number = receipt["blockNumber"]
            tx.block_hash = Web3.to_hex(receipt["blockHash"])
            tx.mined_hash = Web3.to_hex(receipt["transactionHash"])
            tx.gas_used = receipt["gasUsed"]
            tx.save(update_fields=["status", "block_number", "block_hash", "mined_hash", "gas_used"])
        elif not _known_to_node(w3, tx.tx_hash):
            logger.info("re-broadcasting %s (not known to the node)", tx)
            _broadcast(ctx, tx)
        elif tx.last_broadcast_at and timezone.now() - tx.last_broadcast_at >= ctx.stuck_after:
            logger.info("bumping the fee of stuck %s", tx)
            transaction_bump_fee(tx=tx, ctx=ctx)
        else:
            # The node has it pending; mark broadcast in case the worker died before doing so.
            ChainTransaction.objects.filter(pk=tx.pk, status=Status.SIGNED).update(status=Status.BROADCAST)
            tx.refresh_from_db()

    if tx.status == Status.MINED:
        depth = w3.eth.block_number - tx.block_number + 1
        if depth >= ctx.confirmations:
            tx.status = Status.CONFIRMED
            tx.save(update_fields=["status"])
    return tx
