"""In chromium: a creator adds a co-creator, the co-creator signs in and accepts with their
wallet, a buyer buys, both see the sale with the right shares, the co-creator withdraws with the
wallet and sees it confirmed, and the CSV statement's total matches the page."""

import csv
import io

import pytest
from eth_account import Account
from playwright.sync_api import expect

from core.money import eth_short, wei_to_eth
from licensing import services as licensing
from licensing.terms import PRESETS
from licensing.tests.helpers import buy, fund, index, mine
from royalties.ledger import balance
from royalties.models import LedgerAccount
from tests.fixtures.browser import signed_in
from tests.fixtures.chain import register_work

pytestmark = [pytest.mark.browser, pytest.mark.anvil]


def test_co_creator_accepts_shares_a_sale_and_withdraws(
    live_server, browser, chain, creator, buyer, settings
):
    co_account = Account.create()
    fund(chain, co_account.address)
    fund(chain, buyer.address)
    work = register_work(creator, seed=1800, w3=chain, title="Two hands")

    # The creator lists the co-creator at 40 %.
    owner_page, _ = signed_in(browser, chain, live_server, creator.account)
    owner_page.goto(f"{live_server.url}/works/{work.pk}/")
    owner_page.get_by_test_id("split-sheet-link").click()
    owner_page.fill("input[name=party-0-address]", co_account.address)
    owner_page.fill("input[name=party-0-role]", "colourist")
    owner_page.fill("input[name=party-0-percent]", "40")
    owner_page.get_by_test_id("propose-split-submit").click()
    expect(owner_page.get_by_test_id("sheet-status").first).to_have_text("waiting for every party to accept")

    # The co-creator signs in for the first time and accepts with their wallet.
    co_page, co_wallet = signed_in(browser, chain, live_server, co_account)
    expect(co_page.get_by_test_id("sheets-awaiting")).to_contain_text("Two hands")
    co_page.get_by_test_id("sheets-awaiting").get_by_role("link").click()
    co_page.get_by_test_id("accept-split").click()
    expect(co_page.get_by_test_id("sheet-status").first).to_have_text("in force")
    assert co_wallet.signed[-1]["primaryType"] == "SplitAcceptance"
    co_page.screenshot(path="var/screenshots/split-accepted.png", full_page=True)

    # A buyer buys; the indexer posts the sale.
    offer = licensing.offer_create(work=work, terms=PRESETS["commercial_use"][1], preset="commercial_use")
    buy(chain, offer, buyer)
    kind = LedgerAccount.Kind.CREDITED
    co_share, owner_share = (
        balance(kind=kind, address=co_account.address),
        balance(kind=kind, address=creator.address),
    )
    price = 10**16
    pool = price - price * settings.PLATFORM_FEE_BPS // 10_000
    assert co_share == pool * 4000 // 10_000 and owner_share == pool - co_share

    for page, share in ((owner_page, owner_share), (co_page, co_share)):
        page.goto(f"{live_server.url}/earnings/")
        # rounded on screen, exact in the title and what a copy takes
        for testid in ("total-all", "line-share"):
            amount = page.get_by_test_id(testid).first.locator(".money")
            expect(amount).to_have_text(f"{eth_short(share)} ETH")
            expect(amount).to_have_attribute("data-exact", wei_to_eth(share))
    expect(co_page.get_by_test_id("earning-lines")).to_contain_text("Co-creator: colourist · 40 %")
    co_page.screenshot(path="var/screenshots/earnings-co-creator.png", full_page=True)

    # The CSV statement's total is the page's total, to the wei.
    with co_page.expect_download() as download:
        co_page.get_by_test_id("statement-csv").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert rows[-1][0] == "TOTAL" and int(rows[-1][10]) == co_share

    # The co-creator withdraws with the wallet: pending, then confirmed from the chain.
    expect(co_page.get_by_test_id("available").locator(".money")).to_have_attribute(
        "data-exact", wei_to_eth(co_share)
    )
    co_page.get_by_test_id("withdraw").click()
    expect(co_page.get_by_test_id("withdrawal-pending")).to_contain_text("waiting for confirmation")
    mine(chain, settings.CHAIN_CONFIRMATIONS)
    index(chain)
    expect(co_page.get_by_test_id("withdrawal-confirmed").locator(".money")).to_have_attribute(
        "data-exact", wei_to_eth(co_share), timeout=10_000
    )
    co_page.reload()
    expect(co_page.get_by_test_id("available")).to_have_text("0 ETH")
    co_page.screenshot(path="var/screenshots/earnings-withdrawn.png", full_page=True)
