"""Settlements paid in the stablecoin, on a real anvil: the platform signs a TokenSettlement, the
buyer approves the price and settles in one more transaction, the ledger mirrors it in the
stablecoin's accounts (never mixed with ether), payees claim and withdraw in the token with one
Withdraw, and the ledger and the contract agree."""

import pytest
from django.conf import settings as django_settings
from web3 import Web3

from core.chain.contracts import MARKET, contract
from core.chain.stablecoin import currency
from licensing.tests.helpers import fund, index, mine, mint_stablecoin, send_tx
from royalties.models import JournalEntry, LedgerAccount, Settlement
from royalties.reconciliation import reconcile
from royalties.selectors import earnings_totals
from royalties.services import token_available, token_withdrawal_transaction, withdrawal_transaction
from royalties.settlement import SettlementError, settlement_create, settlement_transaction
from royalties.tests.factories import sheet_row, work_row

pytestmark = pytest.mark.anvil
PRICE = 2_000_000  # 2 tUSDC a work


def _balances(kind, cur):
    return {
        a.address: sum(int(line.amount) for line in a.lines.all())
        for a in LedgerAccount.objects.filter(kind=kind, currency=cur).prefetch_related("lines")
    }


def test_a_settlement_priced_in_the_stablecoin_is_paid_claimed_and_reconciled_in_it(
    chain, org, ai_company, creator, co_creator, settings
):
    w3 = chain
    settings.PLATFORM_FEE_BPS = 500
    for persona in (ai_company, creator, co_creator):
        fund(w3, persona.address)
    token = mint_stablecoin(w3, ai_company.address, 10 * PRICE)
    works = [work_row(creator.user, creator.address, title=f"work {i}") for i in range(3)]
    sheet_row(works[0], [(co_creator.address, 2000, "illustrator")])
    lines = [(work, PRICE, "0x" + "ab" * 32) for work in works]

    with pytest.raises(SettlementError, match="paid in ETH or tUSDC"):
        settlement_create(org=org, buyer_address=ai_company.address, purpose="training_licence", lines=lines,
                          currency="DAI", w3=w3)  # fmt: skip
    settlement = settlement_create(
        org=org,
        buyer_address=ai_company.address,
        purpose="training_licence",
        training_purpose="training",
        lines=lines,
        currency=currency(),
        w3=w3,
    )
    assert settlement.currency == "tUSDC" and int(settlement.price_wei) == 3 * PRICE
    assert settlement.typed_data["primaryType"] == "TokenSettlement"
    assert settlement.typed_data["message"]["token"] == token.address

    # the buyer approves exactly the price, then settles: no ether moves
    tx = settlement_transaction(settlement=settlement, w3=w3)
    assert tx["value"] == "0x0"
    approval = tx["approval"]
    assert send_tx(w3, ai_company.account, {"to": approval["to"], "data": approval["data"]}).status == 1
    receipt = send_tx(w3, ai_company.account, {"to": tx["to"], "data": tx["data"], "value": 0})
    assert receipt.status == 1
    assert token.functions.balanceOf(ai_company.address).call() == 7 * PRICE
    mine(w3, django_settings.CHAIN_CONFIRMATIONS)
    index(w3)
    settlement.refresh_from_db()
    assert settlement.status == Settlement.Status.PAID

    # the ledger holds every share in the stablecoin, nothing in ether
    allocated = _balances(LedgerAccount.Kind.ALLOCATED, "tUSDC")
    fee = PRICE * 500 // 10_000
    co_share = (PRICE - fee) * 2000 // 10_000
    assert allocated[co_creator.address] == co_share
    assert allocated[creator.address] == 3 * (PRICE - fee) - co_share
    assert sum(allocated.values()) == 3 * PRICE
    assert not _balances(LedgerAccount.Kind.ALLOCATED, "ETH")
    assert withdrawal_transaction(address=creator.address, w3=w3) is None  # nothing in ether
    # the earnings pages count the shares in the stablecoin, beside an untouched ether total
    totals = earnings_totals(address=co_creator.address)
    assert totals["tUSDC"].all_time == co_share and totals["ETH"].all_time == 0

    # one Withdraw claims and pays out in the token
    assert token_available(address=co_creator.address, w3=w3) == co_share
    wtx, amount = token_withdrawal_transaction(address=co_creator.address, w3=w3)
    assert amount == co_share
    assert send_tx(w3, co_creator.account, {"to": wtx["to"], "data": wtx["data"]}).status == 1
    assert token.functions.balanceOf(co_creator.address).call() == co_share
    mine(w3, django_settings.CHAIN_CONFIRMATIONS)
    index(w3)
    assert JournalEntry.objects.filter(kind=JournalEntry.Kind.CLAIM).count() == 1
    assert _balances(LedgerAccount.Kind.WITHDRAWN, "tUSDC") == {co_creator.address: co_share}
    assert token_withdrawal_transaction(address=co_creator.address, w3=w3) is None

    # the ledger and the contract agree, in both currencies
    market = contract(w3=w3, name=MARKET)
    assert (
        market.functions.totalTokenUnclaimed(Web3.to_checksum_address(token.address)).call()
        == 3 * PRICE - co_share
    )
    run = reconcile(w3=w3)
    assert run.ok, run.mismatches
