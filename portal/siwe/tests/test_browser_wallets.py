"""Several wallets in one browser (EIP-6963): the person picks one by its announced name and
icon, signs in with it, and it signs everything after that in the tab; a smart-contract account
(not yet deployed: ERC-6492) signs in and registers a work like any wallet."""

import re

import pytest
from eth_account import Account
from playwright.sync_api import expect

from core.chain.accounts import COUNTERFACTUAL
from core.chain.sender import sender_context
from tests.fixtures.browser import BrowserWallet
from tests.fixtures.images import make_image
from works import anchoring
from works.models import Work

pytestmark = [pytest.mark.browser, pytest.mark.anvil]

ICON = (
    "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCAzMiAzMiI+"
    "PGNpcmNsZSBjeD0iMTYiIGN5PSIxNiIgcj0iMTQiIGZpbGw9IiMzYjZlZjUiLz48L3N2Zz4="
)


def _wallets(page, smart_accounts):
    key = BrowserWallet(
        page,
        Account.create(),
        prefix="__keyWallet",
        announce={"uuid": "0b8f7c0e-1", "name": "Key Wallet", "icon": ICON, "rdns": "org.example.keywallet"},
    )
    owner = Account.create()
    smart = BrowserWallet(
        page,
        owner,
        prefix="__smartWallet",
        announce={"uuid": "0b8f7c0e-2", "name": "Smart Wallet", "icon": ICON, "rdns": "org.example.smart"},
        smart=smart_accounts(owner, deployed=False, salt=42),
    )
    return key, smart


def test_the_person_picks_a_wallet_and_it_signs_everything_after(
    live_server, page, chain, smart_accounts, settings, tmp_path
):
    settings.ANCHOR_BATCH_SECONDS = 0
    key, smart = _wallets(page, smart_accounts)
    page.goto(f"{live_server.url}/auth/signin")
    page.get_by_test_id("connect-wallet").click()

    picker = page.get_by_test_id("wallet-picker")
    expect(picker).to_be_visible()
    expect(picker.locator(".wallet-choice")).to_have_text(["Key Wallet", "Smart Wallet"])
    expect(picker.locator(".wallet-choice img").first).to_have_attribute("src", ICON)
    page.screenshot(path="var/screenshots/wallet-picker.png", full_page=True)
    picker.get_by_role("button", name="Smart Wallet").click()

    page.wait_for_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_test_id("dashboard-address")).to_have_text(smart.address)
    assert smart.requests[-1] == "personal_sign" and key.connects == 0 and key.signed == []
    assert chain.eth.get_code(smart.address) == b"", "signing in deployed nothing"

    art = tmp_path / "dune.jpg"
    art.write_bytes(make_image(seed=321, size=(1024, 768)))
    page.get_by_test_id("register-work").click()
    page.set_input_files("input[type=file]", str(art))
    page.fill("input[name=title]", "Dune at noon")
    page.get_by_test_id("upload-submit").click()
    page.wait_for_url(re.compile(r"/works/\d+/$"))
    page.get_by_test_id("sign-registration").click()  # no picker: the tab remembers the choice
    expect(page.get_by_test_id("provenance-status")).to_have_text("pending")
    assert smart.signed[-1]["primaryType"] == "Registration" and key.signed == []
    work = Work.objects.get(title="Dune at noon")
    assert work.creator_address == smart.address and work.registration.signer_kind == COUNTERFACTUAL

    ctx = sender_context(w3=chain)
    anchoring.anchor_tick(ctx=ctx)
    chain.provider.make_request("evm_mine", [])
    anchoring.anchor_tick(ctx=ctx)
    expect(page.get_by_test_id("provenance-status")).to_have_text("anchored", timeout=15_000)

    page.goto(f"{live_server.url}/verify")
    page.set_input_files("input[name=file]", str(art))
    page.get_by_test_id("verify-submit").click()
    expect(page.get_by_test_id("verify-verdict")).to_have_text("Verified on-chain")
    expect(page.get_by_test_id("verify-signer-kind")).to_have_text(
        "a smart-contract account not yet deployed (ERC-6492)"
    )
    page.screenshot(path="var/screenshots/verify-smart-account.png", full_page=True)


def test_closing_the_list_signs_nothing_and_says_why(live_server, page, chain, smart_accounts):
    key, smart = _wallets(page, smart_accounts)
    page.goto(f"{live_server.url}/auth/signin")
    page.get_by_test_id("connect-wallet").click()
    page.get_by_test_id("wallet-picker").get_by_role("button", name="Cancel").click()
    expect(page.locator("#siwe-status")).to_contain_text("You closed the wallet list without choosing one")
    expect(page.get_by_test_id("wallet-picker")).to_have_count(0)
    assert key.connects == smart.connects == 0 and key.signed == smart.signed == []


def test_one_announced_wallet_is_used_without_asking(live_server, page, chain, smart_accounts):
    only = BrowserWallet(
        page,
        Account.create(),
        prefix="__onlyWallet",
        announce={"uuid": "0b8f7c0e-3", "name": "Only Wallet", "icon": ICON, "rdns": "org.example.only"},
    )
    page.goto(f"{live_server.url}/auth/signin")
    expect(page.locator("#siwe-status")).to_be_empty()  # no "No wallet found": one announced itself
    page.get_by_test_id("connect-wallet").click()
    page.wait_for_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_test_id("dashboard-address")).to_have_text(only.address)
