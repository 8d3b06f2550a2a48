"""In chromium: a buyer finds a work through filters, pays with the wallet, sees the licence."""

import re

import pytest
from playwright.sync_api import expect

from licensing import services
from licensing.models import Licence
from licensing.terms import PRESETS
from licensing.tests.helpers import fund, index, mine, mint_stablecoin

pytestmark = [pytest.mark.browser, pytest.mark.anvil]


def test_find_buy_and_download(
    register, live_server, page, browser_wallet, chain, creator, settings, django_user_model
):
    paid = register(creator, seed=900, w3=chain, title="Glass harbour")
    other = register(creator, seed=901, w3=chain, title="Open field")
    services.offer_create(work=paid, terms=PRESETS["ai_training"][1], preset="ai_training")
    services.offer_create(work=other, terms=PRESETS["cc_by"][1], preset="cc_by")
    browser_wallet.w3 = chain
    fund(chain, browser_wallet.account.address)

    page.goto(f"{live_server.url}/auth/signin")
    page.get_by_test_id("connect-wallet").click()
    page.wait_for_url(re.compile(r"/dashboard/$"))

    page.goto(f"{live_server.url}/catalogue")
    expect(page.get_by_test_id("catalogue-item")).to_have_count(2)
    page.select_option("select[name=ai]", "paid")  # htmx swaps the results in place
    expect(page.get_by_test_id("catalogue-item")).to_have_count(1)
    assert "ai=paid" in page.url
    page.screenshot(path="var/screenshots/catalogue-filtered.png", full_page=True)
    page.get_by_role("link", name="Glass harbour").first.click()

    page.wait_for_url(re.compile(rf"/works/{paid.pk}/$"))
    page.screenshot(path="var/screenshots/work-offers.png", full_page=True)
    expect(page.get_by_test_id("use-licence")).to_be_checked()
    page.get_by_test_id("use-ai_training").check()  # the licence plus AI training, priced by the terms
    page.get_by_test_id("buy-offer").click()
    page.wait_for_url(re.compile(r"/quotes/0x[0-9a-f]{64}/$"))
    expect(page.get_by_test_id("quote-price")).to_have_text("0.015 ETH")
    expect(page.get_by_test_id("quote-lines")).to_contain_text("AI training")
    browser_wallet.chain_id = 1  # the buyer's wallet wandered to mainnet: it is switched back first
    browser_wallet.requests.clear()
    page.get_by_test_id("pay").click()
    expect(page.get_by_test_id("purchase-state")).to_contain_text("waiting for 2 confirmations")
    page.screenshot(path="var/screenshots/quote-waiting.png", full_page=True)
    assert len(browser_wallet.sent) == 1
    assert browser_wallet.requests == ["wallet_switchEthereumChain", "eth_sendTransaction"]

    # The indexer (a beat task in production) sees the payment once it is confirmed.
    mine(chain, settings.CHAIN_CONFIRMATIONS)
    index(chain)
    expect(page.get_by_test_id("purchase-state")).to_have_text("Licensed.", timeout=10_000)
    page.get_by_test_id("certificate-link").click()
    expect(page.get_by_test_id("licensee").locator("[data-address]")).to_have_attribute(
        "data-address", browser_wallet.account.address
    )
    expect(page.get_by_test_id("uses-bought")).to_have_text("Licence, AI training")
    page.screenshot(path="var/screenshots/licence-certificate.png", full_page=True)
    with page.expect_download() as download:
        page.get_by_test_id("download").click()
    assert download.value.suggested_filename.startswith("Glass-harbour-licence-")

    licence = Licence.objects.get()
    assert licence.licensee_address == browser_wallet.account.address
    assert licence.uses == 3 and int(licence.price_wei) == 15 * 10**15


def test_buy_an_offer_priced_in_the_stablecoin_with_one_permit_signature(
    register, live_server, page, browser_wallet, chain, creator, settings
):
    """The wallet signs one permit (no approval transaction) and sends one transaction."""
    from dataclasses import replace

    work = register(creator, seed=902, w3=chain, title="Dollar dunes")
    terms = replace(PRESETS["commercial_use"][1], currency="tUSDC", fee_wei=3_000_000)
    services.offer_create(work=work, terms=terms, preset="")
    browser_wallet.w3 = chain
    buyer = browser_wallet.account.address
    fund(chain, buyer)
    token = mint_stablecoin(chain, buyer, 3_000_000)

    page.goto(f"{live_server.url}/auth/signin")
    page.get_by_test_id("connect-wallet").click()
    page.wait_for_url(re.compile(r"/dashboard/$"))
    page.goto(f"{live_server.url}/works/{work.pk}/")
    page.get_by_test_id("buy-offer").click()
    page.wait_for_url(re.compile(r"/quotes/0x[0-9a-f]{64}/$"))
    expect(page.get_by_test_id("quote-price")).to_have_text("3 tUSDC")
    browser_wallet.requests.clear()
    page.get_by_test_id("pay").click()
    expect(page.get_by_test_id("purchase-state")).to_contain_text("waiting for 2 confirmations")
    assert browser_wallet.requests == ["eth_signTypedData_v4", "eth_sendTransaction"]
    assert browser_wallet.signed[-1]["primaryType"] == "Permit"
    page.screenshot(path="var/screenshots/quote-stablecoin-waiting.png", full_page=True)
    mine(chain, settings.CHAIN_CONFIRMATIONS)
    index(chain)
    expect(page.get_by_test_id("purchase-state")).to_have_text("Licensed.", timeout=10_000)
    assert token.functions.balanceOf(buyer).call() == 0
    licence = Licence.objects.get(work=work)
    assert licence.certificate["message"]["currency"] == "tUSDC"
