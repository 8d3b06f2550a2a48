"""In chromium: a creator prices AI use per fetch on the offer form, a buyer licenses the work in
ETH, an agent pays per fetch with the x402 Python SDK, and the creator's earnings page shows the
ETH sale and the AI fetch in the stablecoin side by side, then withdraws the stablecoin with the
wallet (phone width too)."""

import pytest
import requests
from django.conf import settings
from eth_account import Account
from playwright.sync_api import expect
from x402 import x402ClientSync
from x402.http.clients import wrapRequestsWithPayment
from x402.mechanisms.evm.exact.register import register_exact_evm_client

from licensing.models import Offer
from licensing.tests.helpers import buy, fund, index, mine, mint_stablecoin
from tests.fixtures.browser import signed_in
from tests.fixtures.chain import register_work

pytestmark = [pytest.mark.browser, pytest.mark.anvil]


@pytest.fixture
def chain(private_chain):
    """A chain whose clock is the wall clock's (x402 authorisations are timed by it)."""
    return private_chain


def test_an_artist_sees_ai_fetches_in_the_stablecoin_beside_eth_sales_and_withdraws(
    live_server, browser, chain, creator, buyer
):
    fund(chain, creator.address)
    fund(chain, buyer.address)
    work = register_work(creator, seed=1900, w3=chain, title="Harbour at dawn")
    page, _ = signed_in(browser, chain, live_server, creator.account)
    page.goto(f"{live_server.url}/works/{work.pk}/offers/new?preset=commercial_use")
    page.select_option("select[name=ai_fetch]", "paid")
    page.fill("input[name=ai_fetch_price]", "0.05")
    page.get_by_test_id("publish-offer").click()
    expect(page.locator("body")).to_contain_text("allowed for 0.05 tUSDC per fetch, paid with x402")
    offer = Offer.objects.get(work=work, status="active")

    buy(chain, offer, buyer)  # a licence in ETH

    agent = Account.create()
    token = mint_stablecoin(chain, agent.address, 10**6)
    x402 = x402ClientSync()
    register_exact_evm_client(x402, agent)
    x402.set_spend_controls(
        {"allowed_assets": [{"network": f"eip155:{settings.CHAIN_ID}", "asset": token.address}]}
    )
    session = wrapRequestsWithPayment(requests.Session(), x402)
    for _ in range(2):
        assert session.get(f"{live_server.url}/works/{work.pk}/ai", timeout=60).status_code == 200
    mine(chain, settings.CHAIN_CONFIRMATIONS)
    index(chain)

    fee = 50_000 * settings.PLATFORM_FEE_BPS // 10_000
    share = 2 * (50_000 - fee)
    page.goto(f"{live_server.url}/earnings/")
    expect(page.get_by_test_id("ai-total")).to_have_text(f"{share / 10**6:g} tUSDC")
    expect(page.get_by_test_id("ai-lines")).to_contain_text("Harbour at dawn")
    expect(page.get_by_test_id("ai-lines")).to_contain_text("0.05 tUSDC")
    expect(page.get_by_test_id("total-all")).to_contain_text("ETH")  # the licence, in its own currency
    expect(page.get_by_test_id("earning-lines")).to_contain_text("Licence")
    page.screenshot(path="var/screenshots/earnings-ai-fetches.png", full_page=True)

    phone, _ = signed_in(
        browser, chain, live_server, creator.account, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    phone.goto(f"{live_server.url}/earnings/#ai-fetches")
    expect(phone.get_by_test_id("ai-total")).to_be_visible()
    phone.screenshot(path="var/screenshots/earnings-ai-fetches-phone.png", full_page=True)

    page.get_by_test_id("withdraw-token").click()
    expect(page.get_by_test_id("withdrawal-pending")).to_contain_text("waiting for confirmation")
    assert token.functions.balanceOf(creator.address).call() == share
    mine(chain, settings.CHAIN_CONFIRMATIONS)
    index(chain)
    page.reload()
    expect(page.get_by_test_id("ai-available")).to_have_text("0 tUSDC")
    expect(page.get_by_test_id("ai-withdrawn")).to_have_text(f"{share / 10**6:g} tUSDC")
