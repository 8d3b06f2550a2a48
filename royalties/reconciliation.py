"""Proving the ledger and the chain agree, at one block.

1. Take the block the indexer has read up to (the ledger reflects events up to there); skip
   the run while deliveries of earlier events are still waiting (the ledger is behind on
   purpose, not wrong).
2. Read every market the portal has money in (version 2, and version 1 after an upgrade) at
   that block, outside any database transaction: each payee's `balanceOf`, `totalCredited`,
   `totalUnclaimed`, and the contracts' ether, summed over the markets.
   The stablecoin likewise (AI fetches, settlements paid in it): `tokenBalanceOf`,
   `totalTokenCredited`, `totalTokenUnclaimed` and the tokens the market holds, against the
   ledger's accounts in the stablecoin's currency.
3. Compare with the ledger: each payee's CREDITED balance, the sum of CREDITED, the sum of
   ALLOCATED. The ether must cover what is owed (the larger of the ledger's credited +
   allocated and the contracts' own totals): below it is a shortfall, always a mismatch; ether
   *above* it (someone forced ether in with selfdestruct) is surplus: recorded and reported,
   not a mismatch.
4. Record the run with every mismatch and both figures; log an error. Never correct anything.
"""

import logging

from core.chain import market as market_gateway
from core.chain.client import get_web3
from core.chain.contracts import MARKETS, STABLECOIN, contract, deployment_block, is_deployed
from core.chain.models import ChainCursor, EventDelivery
from core.chain.stablecoin import currency, stablecoin
from core.fields import wei_sum
from royalties.models import JournalLine, LedgerAccount, ReconciliationRun

logger = logging.getLogger(__name__)
Kind = LedgerAccount.Kind
NOTE_BEHIND = "skipped: {n} event deliveries are still waiting, so the ledger is behind the chain"
NOTE_NO_CURSOR = "skipped: the indexer has not read LicenseMarket yet"
NOTE_SURPLUS = "surplus: {surplus} wei more ether than the ledger owes (forced in; nobody's to claim)"


def _ledger_balances(kind: str, currency: str = "ETH") -> dict[str, int]:
    """Every account of the kind in the currency (those left without lines too), with its balance."""
    balances: dict[str, int] = dict.fromkeys(
        LedgerAccount.objects.filter(kind=kind, currency=currency).values_list("address", flat=True), 0
    )
    for address, amount in (
        JournalLine.objects.filter(account__kind=kind, account__currency=currency)
        .values_list("account__address", "amount")
        .iterator()
    ):
        balances[address] = balances.get(address, 0) + amount
    return balances


def _stablecoin_mismatches(*, w3, market, block: int, mismatches: list) -> int:
    """The stablecoin the same way (version 2 only holds tokens): each payee's credited balance,
    the total, and the tokens the market holds covering it. Returns how many payees it checked."""
    if not is_deployed(w3=w3, name=STABLECOIN) or not any(
        item.get("name") == "tokenBalanceOf" for item in market.abi
    ):
        return 0
    token = stablecoin(w3=w3)
    credited = _ledger_balances(Kind.CREDITED, currency())
    at = {"block_identifier": block}
    for address, ledger_value in sorted(credited.items()):
        chain_value = market.functions.tokenBalanceOf(token.address, address).call(**at)
        if chain_value != ledger_value:
            mismatches.append(
                {
                    "what": f"payee balance ({currency()})",
                    "address": address,
                    "ledger": str(ledger_value),
                    "chain": str(chain_value),
                }
            )
    owed = sum(credited.values())
    allocated = sum(_ledger_balances(Kind.ALLOCATED, currency()).values())  # settled, unclaimed
    chain_total = market.functions.totalTokenCredited(token.address).call(**at)
    chain_unclaimed = market.functions.totalTokenUnclaimed(token.address).call(**at)
    held = token.functions.balanceOf(market.address).call(**at)
    for what, ledger_value, chain_value in (
        (f"total credited ({currency()})", owed, chain_total),
        (f"total unclaimed ({currency()})", allocated, chain_unclaimed),
        (f"{currency()} held by the market (a shortfall)", owed + allocated, min(held, owed + allocated)),
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
    return len(credited)


def reconcile(*, w3=None) -> ReconciliationRun | None:

    w3 = w3 or get_web3()
    names = [name for name in MARKETS if is_deployed(w3=w3, name=name)]
    markets = [contract(w3=w3, name=name) for name in names]
    cursors = dict(
        ChainCursor.objects.filter(
            chain_id=w3.eth.chain_id, contract__in=[m.address for m in markets]
        ).values_list("contract", "block_number")
    )
    if not markets or any(
        cursors.get(m.address, -1) < deployment_block(w3=w3, name=name)
        for name, m in zip(names, markets, strict=True)
    ):
        return ReconciliationRun.objects.create(block_number=-1, ok=True, checked=0, note=NOTE_NO_CURSOR)
    block = min(cursors[m.address] for m in markets)  # the ledger reflects every market up to here
    waiting = EventDelivery.objects.filter(
        event__contract__in=[m.address for m in markets],
        status__in=[EventDelivery.Status.PENDING, EventDelivery.Status.UNDO],
    ).count()
    if waiting:
        return ReconciliationRun.objects.create(
            block_number=block, ok=True, checked=0, note=NOTE_BEHIND.format(n=waiting)
        )
    credited = _ledger_balances(Kind.CREDITED)
    allocated_total = wei_sum(
        JournalLine.objects.filter(account__kind=Kind.ALLOCATED, account__currency="ETH"), "amount"
    )

    # Chain reads (no database transaction is open here), summed over the markets.
    chain_balances = {
        address: sum(market_gateway.balance_of(contract=m, payee=address, block=block) for m in markets)
        for address in credited
    }
    market_totals = [market_gateway.totals(contract=m, block=block) for m in markets]
    chain_credited = sum(credited_total for credited_total, _ in market_totals)
    chain_unclaimed = sum(unclaimed for _, unclaimed in market_totals)
    ether = sum(w3.eth.get_balance(m.address, block_identifier=block) for m in markets)
    market = markets[0]

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
    owed = max(ledger_credited + allocated_total, chain_credited + chain_unclaimed)
    surplus = max(ether - owed, 0)  # forced in (selfdestruct): nobody's, and harmless
    for what, ledger_value, chain_value in (
        ("total credited", ledger_credited, chain_credited),
        ("total allocated, unclaimed", allocated_total, chain_unclaimed),
        ("ether held by the contracts (a shortfall)", owed, min(ether, owed)),
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
    token_checked = _stablecoin_mismatches(w3=w3, market=market, block=block, mismatches=mismatches)
    run = ReconciliationRun.objects.create(
        block_number=block,
        ok=not mismatches,
        checked=len(credited) + token_checked,
        mismatches=mismatches,
        surplus_wei=surplus,
        note=NOTE_SURPLUS.format(surplus=surplus) if surplus else "",
    )
    if surplus:
        logger.warning("the markets hold %s wei more than the ledger owes (forced in)", surplus)
    if mismatches:
        logger.error("ledger and chain disagree at block %s: %s", block, mismatches)
    else:
        logger.info("ledger and chain agree at block %s (%s payees)", block, len(credited))
    return run
