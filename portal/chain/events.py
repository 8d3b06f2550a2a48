"""The chain-event indexer: reads a contract's logs from a stored cursor, only once they have
CHAIN_CONFIRMATIONS, and hands each event to its subscribers exactly once.

1. Lock the cursor row (one indexer at a time per contract).
2. If the block at the cursor is no longer the one we read (a reorg deeper than the
   confirmation depth), step the cursor back and read again; events are unique on
   chain id + tx hash + log index, so re-reading changes nothing already handled.
3. Read logs up to the last confirmed block, store each new event and run its subscribers in
   the same database transaction, then move the cursor.
"""

import logging
from collections import defaultdict
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from eth_utils import event_abi_to_log_topic
from web3 import Web3

from portal.chain.contracts import contract, deployment_block
from portal.chain.models import ChainCursor, ChainEvent

logger = logging.getLogger(__name__)
REWIND_BLOCKS = 64
_subscribers: dict[tuple[str, str], list] = defaultdict(list)


def subscribe(contract_name: str, event_name: str):
    """Register `handler(event: ChainEvent)` for one event of one contract."""

    def register(handler):
        if handler not in _subscribers[(contract_name, event_name)]:
            _subscribers[(contract_name, event_name)].append(handler)
        return handler

    return register


def _jsonable(value):
    if isinstance(value, bytes):
        return Web3.to_hex(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def events_index(*, contract_name: str, w3: Web3 | None = None, max_blocks: int = 5000) -> int:
    """Index confirmed events of one contract; returns how many new events were handled."""
    from portal.chain.client import get_web3

    w3 = w3 or get_web3()
    target = contract(w3=w3, name=contract_name)
    chain_id = w3.eth.chain_id
    by_topic = {
        Web3.to_hex(event_abi_to_log_topic(abi)): abi["name"] for abi in target.abi if abi["type"] == "event"
    }
    latest = w3.eth.block_number
    safe = latest - settings.CHAIN_CONFIRMATIONS + 1

    with transaction.atomic():
        cursor, _ = ChainCursor.objects.select_for_update().get_or_create(
            chain_id=chain_id,
            contract=target.address,
            defaults={"block_number": max(deployment_block(w3=w3, name=contract_name) - 1, -1)},
        )
        if cursor.block_hash and cursor.block_number >= 0:
            block = w3.eth.get_block(cursor.block_number)
            if Web3.to_hex(block["hash"]) != cursor.block_hash:
                logger.warning(
                    "reorg below cursor at %s: rewinding %s blocks", cursor.block_number, REWIND_BLOCKS
                )
                cursor.block_number = max(cursor.block_number - REWIND_BLOCKS, -1)
                cursor.block_hash = ""
        start = cursor.block_number + 1
        end = min(safe, start + max_blocks - 1)
        if end < start:
            cursor.save()
            return 0
        logs = w3.eth.get_logs({"address": target.address, "fromBlock": start, "toBlock": end})
        handled = 0
        timestamps: dict[int, datetime] = {}
        for log in logs:
            name = by_topic.get(Web3.to_hex(log["topics"][0]))
            if name is None:
                continue
            decoded = target.events[name]().process_log(log)
            number = log["blockNumber"]
            if number not in timestamps:
                timestamps[number] = datetime.fromtimestamp(w3.eth.get_block(number)["timestamp"], tz=UTC)
            try:
                with transaction.atomic():
                    event = ChainEvent.objects.create(
                        chain_id=chain_id,
                        tx_hash=Web3.to_hex(log["transactionHash"]),
                        log_index=log["logIndex"],
                        block_number=log["blockNumber"],
                        block_hash=Web3.to_hex(log["blockHash"]),
                        block_timestamp=timestamps[number],
                        contract=target.address,
                        name=name,
                        args={k: _jsonable(v) for k, v in decoded["args"].items()},
                    )
                    for handler in _subscribers[(contract_name, name)]:
                        handler(event)
            except IntegrityError:
                continue  # seen before (a rewind, or a second delivery): nothing to do
            handled += 1
        cursor.block_number = end
        cursor.block_hash = Web3.to_hex(w3.eth.get_block(end)["hash"])
        cursor.save()
    return handled
