"""Proving the ledger and the chain agree, at one block.

1. Take the block the indexer has read up to (the ledger reflects events up to there); skip
   the run while deliveries of earlier events are still waiting (the ledger is behind on
   purpose, not wrong).
2. Read LicenseMarket at that block, outside any database transaction: every payee's
   `balanceOf`, `totalCredited`, `totalUnclaimed`, and the contract's ether balance.
3. Compare with the ledger: each payee's CREDITED balance, the sum of CREDITED, the sum of
   ALLOCATED, and ether = credited + allocated.
4. Record the run with every mismatch and both figures; log an error. Never correct anything.
"""

import logging

from portal.chain.contracts import MARKET, contract, deployment_block
from portal.chain.models import ChainCursor, EventDelivery
from portal.fields import wei_sum
from royalties.models import JournalLine, LedgerAccount, ReconciliationRun

logger = logging.getLogger(__name__)
Kind = LedgerAccount.Kind
NOTE_BEHIND = "skipped: {n} event deliveries are still waiting, so the ledger is behind the chain"
NOTE_NO_CURSOR = "skipped: the indexer has not read LicenseMarket yet"


def _ledger_balances(kind: str) -> dict[str, int]:
    """Every account of the kind (those left without lines too), with its balance."""
    balances: dict[str, int] = dict.fromkeys(
        LedgerAccount.objects.filter(kind=kind).values_list("address", flat=True), 0
    )
    for address, amount in (
        JournalLine.objects.filter(account__kind=kind).values_list("account__address", "amount").iterator()
    ):
        balances[address] = balances.get(address, 0) + amount
    return balances


def reconcile(*, w3=None) -> ReconciliationRun | None:
    from portal.chain.client import get_web3

    w3 = w3 or get_web3()
    market = contract(w3=w3, name=MARKET)
    cursor = ChainCursor.objects.filter(chain_id=w3.eth.chain_id, contract=market.address).first()
    if cursor is None or cursor.block_number < deployment_block(w3=w3, name=MARKET):
        return ReconciliationRun.objects.create(block_number=-1, ok=True, checked=0, note=NOTE_NO_CURSOR)
    waiting = EventDelivery.objects.filter(
        event__contract=market.address, status__in=[EventDelivery.Status.PENDING, EventDelivery.Status.UNDO]
    ).count()
    if waiting:
        return ReconciliationRun.objects.create(
            block_number=cursor.block_number, ok=True, checked=0, note=NOTE_BEHIND.format(n=waiting)
        )
    block = cursor.block_number
    credited = _ledger_balances(Kind.CREDITED)
    allocated_total = wei_sum(JournalLine.objects.filter(account__kind=Kind.ALLOCATED), "amount")

    # Chain reads (no database transaction is open here).
    chain_balances = {
        address: market.functions.balanceOf(address).call(block_identifier=block) for address in credited
    }
    chain_credited = market.functions.totalCredited().call(block_identifier=block)
    chain_unclaimed = market.functions.totalUnclaimed().call(block_identifier=block)
    ether = w3.eth.get_balance(market.address, block_identifier=block)

    mismatches = []
    for address, ledger_value in sorted(credited.items()):
        if chain_balances[address] != ledger_value:
            mismatches.append(
                {
                    "what": "payee balance",
                    "address": address,
                    "ledger": str(ledger_value),
                    "chain": str(chain_balances[address]),
                }
            )
    ledger_credited = sum(credited.values())
    for what, ledger_value, chain_value in (
        ("total credited", ledger_credited, chain_credited),
        ("total allocated, unclaimed", allocated_total, chain_unclaimed),
        ("ether held by the contract", ledger_credited + allocated_total, ether),
    ):
        if ledger_value != chain_value:
            mismatches.append(
                {
                    "what": what,
                    "address": market.address,
                    "ledger": str(ledger_value),
                    "chain": str(chain_value),
                }
            )
    run = ReconciliationRun.objects.create(
        block_number=block, ok=not mismatches, checked=len(credited), mismatches=mismatches
    )
    if mismatches:
        logger.error("ledger and chain disagree at block %s: %s", block, mismatches)
    else:
        logger.info("ledger and chain agree at block %s (%s payees)", block, len(credited))
    return run
