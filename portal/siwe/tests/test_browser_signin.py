"""Sign-in in a real browser (Debian's chromium via Playwright) with an injected wallet."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_connect_sign_land_on_dashboard_and_sign_out(live_server, page, browser_wallet):
    page.goto(f"{live_server.url}/")
    page.get_by_test_id("nav-signin").click()
    page.get_by_test_id("connect-wallet").click()

    page.wait_for_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_test_id("dashboard-address")).to_have_text(browser_wallet.account.address)
    expect(page.get_by_test_id("wallet-address")).to_contain_text(browser_wallet.account.address[:6])
    assert browser_wallet.signed and browser_wallet.signed[0].startswith(
        f"{live_server.url.split('://')[1]} wants you to sign in with your Ethereum account:"
    )
    page.screenshot(path="var/screenshots/signed-in-dashboard.png", full_page=True)

    page.get_by_test_id("menu-account").locator("summary").click()
    page.get_by_test_id("sign-out").click()
    expect(page.get_by_test_id("nav-signin")).to_be_visible()
    page.goto(f"{live_server.url}/dashboard/")
    page.wait_for_url(re.compile(r"/auth/signin\?next="))


def test_without_a_wallet_the_page_says_what_to_do(live_server, page):
    page.goto(f"{live_server.url}/auth/signin")
    expect(page.locator("#siwe-status")).to_contain_text("No wallet found in this browser")
    page.get_by_test_id("connect-wallet").click()
    expect(page.locator("#siwe-status")).to_contain_text("Install a wallet extension")
    page.screenshot(path="var/screenshots/signin-no-wallet.png", full_page=True)


def test_a_rejected_signature_is_explained_and_leaves_the_user_signed_out(live_server, page, browser_wallet):
    browser_wallet.reject_signatures = True
    page.goto(f"{live_server.url}/auth/signin")
    page.get_by_test_id("connect-wallet").click()

    expect(page.locator("#siwe-status")).to_contain_text("You rejected the signature request")
    page.goto(f"{live_server.url}/dashboard/")
    page.wait_for_url(re.compile(r"/auth/signin"))


def test_a_rejected_connection_is_explained(live_server, page, browser_wallet):
    browser_wallet.reject_connect = True
    page.goto(f"{live_server.url}/auth/signin")
    page.get_by_test_id("connect-wallet").click()
    expect(page.locator("#siwe-status")).to_contain_text("You declined the connection request")


def test_the_layout_fits_a_phone(live_server, browser, browser_wallet):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    phone = context.new_page()
    phone.goto(f"{live_server.url}/")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    phone.screenshot(path="var/screenshots/home-phone.png", full_page=True)
    context.close()


def test_a_wallet_on_another_network_is_asked_to_switch_before_it_signs(live_server, page, browser_wallet):
    """On mainnet, not knowing the portal's chain: the wallet is asked to switch, then to add the
    chain (name, RPC, currency), and only then to sign the sign-in message for that chain."""
    browser_wallet.chain_id = 1
    browser_wallet.known_chains = {1}
    page.goto(f"{live_server.url}/auth/signin")
    page.get_by_test_id("connect-wallet").click()
    page.wait_for_url(re.compile(r"/dashboard/$"))
    assert browser_wallet.requests[:3] == [
        "wallet_switchEthereumChain",
        "wallet_addEthereumChain",
        "personal_sign",
    ]
    added = browser_wallet.added[0]
    assert added["chainId"] == "0x7a69" and added["chainName"] == "Creator IP Portal (local)"
    assert added["rpcUrls"] and added["nativeCurrency"]["symbol"] == "ETH"
    assert "Chain ID: 31337" in browser_wallet.signed[0]


def test_declining_the_switch_signs_nothing_and_says_why(live_server, page, browser_wallet):
    browser_wallet.chain_id = 1
    browser_wallet.reject_switch = True
    page.goto(f"{live_server.url}/auth/signin")
    page.get_by_test_id("connect-wallet").click()
    expect(page.locator("#siwe-status")).to_contain_text(
        "Switch it to Creator IP Portal (local) (chain 31337) to continue; nothing was signed"
    )
    page.screenshot(path="var/screenshots/signin-wrong-network.png", full_page=True)
    assert "personal_sign" not in browser_wallet.requests and browser_wallet.signed == []
