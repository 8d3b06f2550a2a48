"""In chromium: a creator uploads, signs, sees pending, then anchored with a proof link;
the verify page confirms the file."""

import re

import pytest
from playwright.sync_api import expect

from core.chain.sender import sender_context
from tests.fixtures.images import make_image
from works import anchoring

pytestmark = [pytest.mark.browser, pytest.mark.anvil]


def test_upload_sign_and_see_the_work_anchored(live_server, page, browser_wallet, chain, settings, tmp_path):
    settings.ANCHOR_BATCH_SECONDS = 0
    art = tmp_path / "harbour.jpg"
    art.write_bytes(make_image(seed=123, size=(1024, 768)))

    page.goto(f"{live_server.url}/auth/signin")
    page.get_by_test_id("connect-wallet").click()
    page.wait_for_url(re.compile(r"/dashboard/$"))

    page.get_by_test_id("register-work").click()
    page.set_input_files("input[type=file]", str(art))
    page.fill("input[name=title]", "Harbour at dusk")
    page.fill("input[name=tags]", "ink, sea")
    page.get_by_test_id("upload-submit").click()
    page.wait_for_url(re.compile(r"/works/\d+/$"))
    expect(page.get_by_test_id("provenance-status")).to_have_text("awaiting your signature")

    page.get_by_test_id("sign-registration").click()
    expect(page.get_by_test_id("provenance-status")).to_have_text("pending")
    assert browser_wallet.signed[-1]["primaryType"] == "Registration"
    page.screenshot(path="var/screenshots/work-pending.png", full_page=True)

    # What the beat task does every few seconds: seal, send, then follow to confirmation.
    ctx = sender_context(w3=chain)
    anchoring.anchor_tick(ctx=ctx)
    chain.provider.make_request("evm_mine", [])
    anchoring.anchor_tick(ctx=ctx)

    expect(page.get_by_test_id("provenance-status")).to_have_text("anchored", timeout=15_000)  # htmx polling
    expect(page.get_by_test_id("proof-link")).to_be_visible()
    page.screenshot(path="var/screenshots/work-anchored.png", full_page=True)
    proof = page.request.get(live_server.url + page.get_by_test_id("proof-link").get_attribute("href")).json()
    assert proof["status"] == "confirmed" and proof["tx_hash"]

    page.goto(f"{live_server.url}/verify")
    page.set_input_files("input[name=file]", str(art))
    page.get_by_test_id("verify-submit").click()
    expect(page.get_by_test_id("verify-verdict")).to_have_text("Verified on-chain")
    page.screenshot(path="var/screenshots/verify-ok.png", full_page=True)


def test_a_bad_file_is_refused_with_a_clear_message(live_server, page, browser_wallet, chain, tmp_path):
    svg = tmp_path / "art.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    page.goto(f"{live_server.url}/auth/signin")
    page.get_by_test_id("connect-wallet").click()
    page.wait_for_url(re.compile(r"/dashboard/$"))
    page.goto(f"{live_server.url}/works/new")
    page.set_input_files("input[type=file]", str(svg))
    page.fill("input[name=title]", "Vector")
    page.get_by_test_id("upload-submit").click()
    expect(page.locator(".error")).to_contain_text("This is not a JPEG, PNG or WebP image")
    page.screenshot(path="var/screenshots/upload-refused.png", full_page=True)
