"""The chain-event indexer and the delivery of events to their subscribers.

Indexing (`events_index`, per contract):
1. Read from the chain outside any database transaction: the head, the block at the cursor (a
   different hash means a reorg below the cursor: rewind), the canonical hash of every block
   holding a stored event above the new cursor (those that changed are orphaned), and the logs
   up to the last block with CHAIN_CONFIRMATIONS. Stored events of the range read that the logs
   no longer contain are orphaned too (a reorg the cursor could not see).
2. Write in one short transaction: orphan marks (done deliveries are queued for undo), new
   events stored once on (chain id, tx hash, log index) with one delivery row per subscriber,
   an orphaned event seen again revived, and the cursor moved. If another indexer moved the
   cursor meanwhile, nothing is written and the next tick reads again.

Delivery (`deliveries_run`): each due delivery runs its subscriber's handler (or undo) in its own
transaction. A handler that raises (an IntegrityError too) rolls back only its own effects; the
delivery records the error and is retried with exponential backoff, and admin can retry it at
once. Nothing is lost and no other event or subscriber waits for it.

Subscribers are declared in settings.CHAIN_SUBSCRIBERS, never registered by import side effects.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from eth_utils import event_abi_to_log_topic
from web3 import Web3
from web3.exceptions import BlockNotFound

from core.chain.client import get_web3
from core.chain.contracts import contract, deployment_block, is_deployed
from core.chain.models import ChainCursor, ChainEvent, EventDelivery

logger = logging.getLogger(__name__)
REWIND_BLOCKS = 64
MAX_BACKOFF = timedelta(hours=1)
ERR_UNKNOWN_SUBSCRIBER = "No subscriber named {name!r} in settings.CHAIN_SUBSCRIBERS."
Status = EventDelivery.Status


@dataclass(frozen=True)
class Subscriber:
    name: str
    contracts: tuple[str, ...]
    events: tuple[str, ...]
    handler: str
    undo: str | None

    def wants(self, contract_name: str, event_name: str) -> bool:
        return contract_name in self.contracts and event_name in self.events


def subscribers() -> dict[str, Subscriber]:
    def names(value):
        return (value,) if isinstance(value, str) else tuple(value)

    return {
        name: Subscriber(
            name, names(spec["contract"]), tuple(spec["events"]), spec["handler"], spec.get("undo")
        )
        for name, spec in settings.CHAIN_SUBSCRIBERS.items()
    }


def _jsonable(value):
    if isinstance(value, bytes):
        return Web3.to_hex(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _block_hash(w3: Web3, number: int) -> str | None:
    try:
        return Web3.to_hex(w3.eth.get_block(number)["hash"])
    except BlockNotFound:
        return None


def events_index(*, contract_name: str, w3: Web3 | None = None, max_blocks: int = 5000) -> int:
    """Index confirmed events of one contract; returns how many events were stored or revived."""

    w3 = w3 or get_web3()
    target = contract(w3=w3, name=contract_name)
    chain_id = w3.eth.chain_id
    by_topic = {
        Web3.to_hex(event_abi_to_log_topic(abi)): abi["name"] for abi in target.abi if abi["type"] == "event"
    }

    # 1. Reads, outside any transaction.
    cursor = ChainCursor.objects.filter(chain_id=chain_id, contract=target.address).first()
    seen_number = cursor.block_number if cursor else max(deployment_block(w3=w3, name=contract_name) - 1, -1)
    seen_hash = cursor.block_hash if cursor else ""
    start_number = seen_number
    orphans: list[int] = []
    if seen_hash and seen_number >= 0 and _block_hash(w3, seen_number) != seen_hash:
        logger.warning("reorg below the cursor at %s: rewinding %s blocks", seen_number, REWIND_BLOCKS)
        start_number = max(seen_number - REWIND_BLOCKS, -1)
        stored = ChainEvent.objects.filter(
            chain_id=chain_id, contract=target.address, block_number__gt=start_number, orphaned=False
        ).values_list("pk", "block_number", "block_hash")
        canonical: dict[int, str | None] = {}
        for pk, number, block_hash in stored:
            if number not in canonical:
                canonical[number] = _block_hash(w3, number)
            if canonical[number] != block_hash:
                orphans.append(pk)
    latest = w3.eth.block_number
    end = min(latest - settings.CHAIN_CONFIRMATIONS + 1, start_number + max_blocks)
    logs, timestamps = [], {}
    if end > start_number:
        for log in w3.eth.get_logs(
            {"address": target.address, "fromBlock": start_number + 1, "toBlock": end}
        ):
            name = by_topic.get(Web3.to_hex(log["topics"][0]))
            if name is None:
                continue
            number = log["blockNumber"]
            if number not in timestamps:
                timestamps[number] = datetime.fromtimestamp(w3.eth.get_block(number)["timestamp"], tz=UTC)
            logs.append((name, log, target.events[name]().process_log(log)["args"]))
        end_hash = _block_hash(w3, end)
        # The logs just read are the canonical truth for this block range: any event stored for
        # it that they do not contain (same tx, log index and block) was reorganised away, even
        # when the cursor cannot tell (a lost cursor, a rewind from scratch).
        canonical_logs = {
            (Web3.to_hex(log["transactionHash"]), log["logIndex"], Web3.to_hex(log["blockHash"]))
            for _, log, _ in logs
        }
        stale = ChainEvent.objects.filter(
            chain_id=chain_id,
            contract=target.address,
            orphaned=False,
            block_number__gt=start_number,
            block_number__lte=end,
        ).values_list("pk", "tx_hash", "log_index", "block_hash")
        orphans += [
            pk
            for pk, tx, index, block in stale
            if (tx, index, block) not in canonical_logs and pk not in orphans
        ]
    else:
        end, end_hash = start_number, (seen_hash if start_number == seen_number else "")

    # 2. Writes, in one short transaction.
    wanted = [s for s in subscribers().values() if contract_name in s.contracts]
    now = timezone.now()
    with transaction.atomic():
        locked, _ = ChainCursor.objects.select_for_update().get_or_create(
            chain_id=chain_id,
            contract=target.address,
            defaults={"block_number": seen_number, "block_hash": ""},
        )
        if (locked.block_number, locked.block_hash) != (seen_number, seen_hash) and cursor is not None:
            return 0  # another indexer moved on meanwhile; the next tick reads again
        for pk in orphans:
            _orphan(pk)
        stored = 0
        for name, log, args in logs:
            stored += _store(
                chain_id=chain_id,
                contract_address=target.address,
                name=name,
                log=log,
                args=args,
                timestamp=timestamps[log["blockNumber"]],
                subscribers=[s for s in wanted if name in s.events],
                now=now,
            )
        locked.block_number, locked.block_hash = end, end_hash or ""
        locked.save(update_fields=["block_number", "block_hash", "updated_at"])
    return stored


def _orphan(pk: int) -> None:
    """The event's block is gone: it stops counting; what subscribers did with it is undone."""
    ChainEvent.objects.filter(pk=pk).update(orphaned=True)
    EventDelivery.objects.filter(event_id=pk, status=Status.DONE).update(
        status=Status.UNDO, attempts=0, last_error="", next_attempt_at=timezone.now()
    )
    EventDelivery.objects.filter(event_id=pk, status=Status.PENDING).update(status=Status.SKIPPED)


def _store(*, chain_id, contract_address, name, log, args, timestamp, subscribers, now) -> int:
    tx_hash = Web3.to_hex(log["transactionHash"])
    fields = {
        "block_number": log["blockNumber"],
        "block_hash": Web3.to_hex(log["blockHash"]),
        "block_timestamp": timestamp,
    }
    event = ChainEvent.objects.filter(chain_id=chain_id, tx_hash=tx_hash, log_index=log["logIndex"]).first()
    if event is not None and not event.orphaned:
        return 0  # seen before (a rewind, or a second read): nothing to do
    if event is None:
        event = ChainEvent.objects.create(
            chain_id=chain_id,
            tx_hash=tx_hash,
            log_index=log["logIndex"],
            contract=contract_address,
            name=name,
            args={k: _jsonable(v) for k, v in args.items()},
            **fields,
        )
    else:  # mined again after a reorg: a new generation, delivered afresh
        ChainEvent.objects.filter(pk=event.pk).update(
            orphaned=False, generation=event.generation + 1, **fields
        )
        event.refresh_from_db()
    for subscriber in subscribers:
        EventDelivery.objects.update_or_create(
            event=event,
            subscriber=subscriber.name,
            defaults={
                "status": Status.PENDING,
                "generation": event.generation,
                "attempts": 0,
                "last_error": "",
                "next_attempt_at": now,
                "done_at": None,
            },
        )
    return 1


def _backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=5 * 2 ** min(attempts, 20)), MAX_BACKOFF)


def delivery_run(*, delivery: EventDelivery) -> EventDelivery:
    """Run one delivery's handler (or undo) in its own transaction; record the outcome."""
    subscriber = subscribers().get(delivery.subscriber)
    if subscriber is None:
        raise LookupError(ERR_UNKNOWN_SUBSCRIBER.format(name=delivery.subscriber))
    undo = delivery.status == Status.UNDO
    path = subscriber.undo if undo else subscriber.handler
    expected = Status.UNDO if undo else Status.PENDING
    try:
        with transaction.atomic():
            claimed = (
                EventDelivery.objects.select_for_update().filter(pk=delivery.pk, status=expected).first()
            )
            if claimed is None:
                delivery.refresh_from_db()
                return delivery
            event = claimed.event
            if path:
                import_string(path)(event)
            claimed.status = Status.UNDONE if undo else Status.DONE
            claimed.done_at = timezone.now()
            claimed.last_error = ""
            claimed.save(update_fields=["status", "done_at", "last_error"])
    except Exception as exc:  # noqa: BLE001 - any handler error is recorded and retried
        logger.exception("%s of %s failed", "undo" if undo else "delivery", delivery)
        attempts = delivery.attempts + 1
        EventDelivery.objects.filter(pk=delivery.pk, status=expected).update(
            attempts=attempts,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            next_attempt_at=timezone.now() + _backoff(attempts),
        )
    delivery.refresh_from_db()
    return delivery


def deliveries_run(*, limit: int = 500, now: datetime | None = None) -> dict:
    """Run every due delivery (oldest event first); returns counts by outcome."""
    now = now or timezone.now()
    due = list(
        EventDelivery.objects.filter(
            status__in=[Status.PENDING, Status.UNDO], next_attempt_at__lte=now
        ).order_by("event__block_number", "event__log_index", "pk")[:limit]
    )
    counts = {"done": 0, "undone": 0, "failed": 0}
    for delivery in due:
        result = delivery_run(delivery=delivery)
        if result.status == Status.DONE:
            counts["done"] += 1
        elif result.status == Status.UNDONE:
            counts["undone"] += 1
        else:
            counts["failed"] += 1
    return counts


def delivery_retry_now(*, delivery: EventDelivery) -> EventDelivery:
    """Admin's "retry now": make a waiting delivery due at once and run it."""
    EventDelivery.objects.filter(pk=delivery.pk, status__in=[Status.PENDING, Status.UNDO]).update(
        next_attempt_at=timezone.now()
    )
    delivery.refresh_from_db()
    return delivery_run(delivery=delivery)


def index_all(*, w3: Web3 | None = None) -> dict:
    """Index every contract in settings.CHAIN_INDEXED_CONTRACTS, then deliver what is due."""
    w3 = w3 or get_web3()
    indexed = {
        name: events_index(contract_name=name, w3=w3)
        for name in settings.CHAIN_INDEXED_CONTRACTS
        if is_deployed(w3=w3, name=name)  # version 1 only where a portal deployed it before
    }
    return {"indexed": indexed, "delivered": deliveries_run()}
