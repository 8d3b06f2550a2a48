"""In chromium: an AI company's admin creates the organisation and an API key (shown once),
the company's pipeline reports a training run through the API with that key, the admin pays the
invoice with the wallet, and the creator sees the run, and what it paid them, on the work page."""

import re

import pytest
import requests
from playwright.sync_api import expect

from core.money import format_eth
from licensing import services as licensing
from licensing.terms import PRESETS
from licensing.tests.helpers import fund, index, mine
from royalties.models import SettlementLine
from tests.fixtures.browser import signed_in
from tests.fixtures.chain import register_work

pytestmark = [pytest.mark.browser, pytest.mark.anvil]
PRICE = 5 * 10**15


def _signed_in(browser, chain, live_server, account, *, width=1280):
    return signed_in(browser, chain, live_server, account, viewport={"width": width, "height": 900})


def test_an_admin_creates_a_key_reports_a_run_and_pays_its_invoice(
    live_server, browser, chain, ai_company, creator, settings
):
    fund(chain, ai_company.address)
    work = register_work(creator, seed=2100, w3=chain, title="Harbour at dawn")
    licensing.offer_create(work=work, terms=PRESETS["ai_training"][1], preset="ai_training")

    # The admin creates the organisation and a key.
    page, wallet = _signed_in(browser, chain, live_server, ai_company.account)
    page.get_by_test_id("menu-ai").locator("summary").click()
    page.get_by_role("link", name="Organisations and API keys").click()
    page.fill("input[name=name]", "Acme AI")
    page.get_by_test_id("create-org").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Acme AI")
    page.fill("input[name=name]", "training pipeline")
    for scope in ("read", "license", "report"):
        page.check(f"input[name=scopes][value={scope}]")
    page.get_by_test_id("create-key").click()
    secret = page.get_by_test_id("new-key-value").inner_text().strip()
    assert re.fullmatch(r"cip_[0-9a-f]+_[A-Za-z0-9_-]+", secret), secret
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_test_id("copy-key").click()
    expect(page.get_by_test_id("copy-key")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    page.screenshot(path="var/screenshots/org-new-key.png", full_page=True)
    page.reload()
    expect(page.get_by_test_id("new-key")).to_have_count(0)  # shown once
    expect(page.get_by_test_id("keys")).to_contain_text(secret.split("_")[1])
    assert secret not in page.content()

    # The pipeline reports a run with the key: the work was used without a licence.
    response = requests.post(
        f"{live_server.url}/api/v1/runs",
        json={
            "run_id": "nightly-42",
            "model_name": "Acme-1",
            "model_version": "2026.11",
            "works": {"ids": [work.pk]},
        },
        headers={"Authorization": f"Bearer {secret}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    invoice = response.json()["invoice"]
    assert int(invoice["total_wei"]) == PRICE

    # The admin pays the invoice with the wallet.
    page.goto(f"{live_server.url}/orgs/")
    page.get_by_role("link", name="Acme AI").click()
    expect(page.get_by_test_id("open-invoices")).to_have_text("1")
    page.get_by_test_id("invoices").get_by_role("link", name=f"#{invoice['id']}").click()
    expect(page.get_by_test_id("invoice-total")).to_have_text(format_eth(PRICE))
    page.get_by_test_id("pay-invoice").click()
    expect(page.get_by_test_id("invoice-state")).to_contain_text("Payment sent")
    assert len(wallet.sent) == 1
    mine(chain, settings.CHAIN_CONFIRMATIONS)
    index(chain)
    expect(page.get_by_test_id("invoice-state")).to_have_text("Paid", timeout=15_000)
    page.screenshot(path="var/screenshots/org-invoice-paid.png", full_page=True)

    # The creator sees the run and what it paid them, on a phone.
    due = sum(
        int(a)
        for a in SettlementLine.objects.filter(work=work, payee=creator.address).values_list(
            "amount", flat=True
        )
    )
    assert due == PRICE - PRICE * settings.PLATFORM_FEE_BPS // 10_000
    creator_page, _ = _signed_in(browser, chain, live_server, creator.account, width=390)
    creator_page.goto(f"{live_server.url}/works/{work.pk}/#training")
    uses = creator_page.get_by_test_id("training-uses")
    expect(uses).to_contain_text("Acme AI")
    expect(uses).to_contain_text("Acme-1 2026.11")
    expect(uses).to_contain_text("nightly-42")
    expect(uses).to_contain_text(format_eth(due))
    creator_page.screenshot(path="var/screenshots/work-training-uses-phone.png", full_page=True)


def test_an_admin_pays_an_invoice_in_the_stablecoin_with_one_permit_and_one_transaction(
    live_server, browser, chain, org, ai_company, api_key, creator, settings
):
    """A run used a work priced in tUSDC and one priced in ETH: two invoices; the admin pays the
    tUSDC one in the browser (the wallet signs a permit, then sends one transaction), the ETH one
    stays open, and the creator sees the payment in tUSDC on the work page."""
    from dataclasses import replace

    from core.chain.stablecoin import stablecoin
    from licensing.tests.helpers import mint_stablecoin

    fund(chain, ai_company.address)
    mint_stablecoin(chain, ai_company.address, 10_000_000)
    usd = register_work(creator, seed=2110, w3=chain, title="Dunes at noon")
    eth = register_work(creator, seed=2111, w3=chain, title="Harbour at dusk")
    terms = replace(
        PRESETS["ai_training"][1],
        currency="tUSDC",
        fee_wei=20_000_000,
        ai_training_price_wei=2_500_000,
        genai_training_price_wei=4_000_000,
    )
    licensing.offer_create(work=usd, terms=terms, preset="ai_training")
    licensing.offer_create(work=eth, terms=PRESETS["ai_training"][1], preset="ai_training")
    response = requests.post(
        f"{live_server.url}/api/v1/runs",
        json={"run_id": "nightly-43", "model_name": "Acme-2", "works": {"ids": [usd.pk, eth.pk]}},
        headers={"Authorization": f"Bearer {api_key('report', 'read')}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    invoices = {i["currency"]: i for i in response.json()["invoices"]}
    assert invoices["tUSDC"]["total_wei"] == "2500000" and invoices["ETH"]["total_wei"] == str(PRICE)

    page, wallet = _signed_in(browser, chain, live_server, ai_company.account)
    page.goto(f"{live_server.url}/orgs/{org.slug}/")
    expect(page.get_by_test_id("open-invoices")).to_have_text("2")
    expect(page.get_by_test_id("invoices")).to_contain_text("2.5 tUSDC")
    page.get_by_test_id("invoices").get_by_role("link", name=f"#{invoices['tUSDC']['id']}").click()
    expect(page.get_by_test_id("invoice-total")).to_have_text("2.5 tUSDC")
    expect(page.get_by_test_id("permit-note")).to_be_visible()
    page.get_by_test_id("pay-invoice").click()
    expect(page.get_by_test_id("invoice-state")).to_contain_text("Payment sent")
    assert wallet.requests.count("eth_signTypedData_v4") == 1 and len(wallet.sent) == 1
    assert wallet.signed[-1]["primaryType"] == "Permit" and wallet.signed[-1]["message"]["value"] == 2_500_000
    mine(chain, settings.CHAIN_CONFIRMATIONS)
    index(chain)
    expect(page.get_by_test_id("invoice-state")).to_have_text("Paid", timeout=15_000)
    page.screenshot(path="var/screenshots/org-invoice-paid-tusdc.png", full_page=True)
    assert stablecoin(w3=chain).functions.balanceOf(ai_company.address).call() == 7_500_000
    page.goto(f"{live_server.url}/orgs/{org.slug}/")
    expect(page.get_by_test_id("open-invoices")).to_have_text("1")  # the ETH one

    share = 2_500_000 - 2_500_000 * settings.PLATFORM_FEE_BPS // 10_000
    creator_page, _ = _signed_in(browser, chain, live_server, creator.account, width=390)
    creator_page.goto(f"{live_server.url}/works/{usd.pk}/#training")
    uses = creator_page.get_by_test_id("training-uses")
    expect(uses).to_contain_text("nightly-43")
    expect(uses).to_contain_text(f"{share / 10**6:g} tUSDC")
    creator_page.screenshot(path="var/screenshots/work-training-uses-tusdc-phone.png", full_page=True)
