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
