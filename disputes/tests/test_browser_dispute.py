"""In chromium: an artist finds their picture registered by someone else, files a dispute with
their own file as evidence; a moderator upholds it in Django admin and revokes the registration;
the work page, the verify page and the dispute say revoked (phone width for the artist)."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from core.chain.sender import sender_context
from disputes.models import Dispute
from royalties.tests.factories import work_row
from tests.fixtures.chain import register_work
from tests.fixtures.images import make_image
from works import anchoring

pytestmark = [pytest.mark.browser, pytest.mark.anvil]
SHOTS = "var/screenshots/dispute-"


def test_artist_files_a_dispute_with_a_file_moderator_upholds_in_admin_work_shows_revoked(
    live_server, page, browser, browser_wallet, chain, creator, moderator, settings, tmp_path
):
    settings.ANCHOR_BATCH_SECONDS = 0
    art = tmp_path / "my-harbour.jpg"
    art.write_bytes(make_image(seed=321, size=(1024, 768)))
    stolen = register_work(creator, seed=321, w3=chain, title="Harbour (not mine)", image=art.read_bytes())
    ctx = sender_context(w3=chain)
    anchoring.anchor_tick(ctx=ctx)
    chain.provider.make_request("evm_mine", [])
    anchoring.anchor_tick(ctx=ctx)

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/auth/signin")
    page.get_by_test_id("connect-wallet").click()
    page.wait_for_url(re.compile(r"/dashboard/$"))
    artist = get_user_model().objects.get(username=browser_wallet.account.address)
    own = work_row(artist, browser_wallet.account.address, title="Harbour, my original")
    type(own).objects.filter(pk=own.pk).update(sha256=stolen.sha256, pdq=stolen.pdq)

    page.goto(f"{live_server.url}{stolen.get_absolute_url()}")
    page.get_by_test_id("dispute-link").click()
    page.wait_for_url(re.compile(r"/works/\d+/dispute$"))
    page.get_by_label("improper registration").check()
    page.fill("textarea[name=statement]", "Too short")
    page.get_by_test_id("file-dispute").click()
    expect(page.locator(".field-error .error")).to_contain_text("at least 20 characters")
    page.screenshot(path=SHOTS + "form-error-phone.png", full_page=True)
    page.get_by_label("improper registration").check()
    page.fill(
        "textarea[name=statement]", "I painted this harbour; this account registered my file as theirs."
    )
    page.set_input_files("input[name=files]", str(art))
    page.fill("input[name=url]", "https://artist.example.org/harbour")
    page.get_by_test_id("file-dispute").click()
    page.wait_for_url(re.compile(r"/disputes/\d+/$"))
    expect(page.get_by_test_id("dispute-status")).to_have_text("Open")
    expect(page.get_by_test_id("reply-window")).to_contain_text("The respondent has until")
    expect(page.get_by_test_id("pdq-distance")).to_contain_text("PDQ distance to the disputed work: 0")
    expect(page.get_by_test_id("evidence")).to_contain_text("Harbour, my original")
    page.screenshot(path=SHOTS + "filed-phone.png", full_page=True)
    dispute = Dispute.objects.get(work=stolen)

    page.goto(f"{live_server.url}{stolen.get_absolute_url()}")
    expect(page.get_by_test_id("work-in-dispute")).to_be_visible()

    admin = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    admin.goto(f"{live_server.url}/admin/disputes/dispute/")
    admin.fill("input[name=username]", "moderator")
    admin.fill("input[name=password]", "x-long-password-1")
    admin.locator("input[type=submit]").click()
    admin.screenshot(path=SHOTS + "queue.png", full_page=True)
    admin.get_by_role("link", name=str(dispute.pk), exact=True).click()
    expect(admin.get_by_test_id("side-disputed")).to_contain_text(stolen.sha256)
    expect(admin.get_by_test_id("side-claimant")).to_contain_text("Harbour, my original")
    expect(admin.get_by_test_id("evidence-distance")).to_have_text("0")
    admin.screenshot(path=SHOTS + "moderation.png", full_page=True)
    admin.get_by_label("Uphold: the claim is right").check()
    admin.fill("textarea[name=reason]", "The artist's registration and portfolio came first.")
    admin.get_by_test_id("decide").click()  # the respondent has not answered: not yet
    expect(admin.locator(".errornote")).to_contain_text("has until")
    expect(admin.get_by_test_id("reply-window")).to_be_visible()
    admin.get_by_label("Uphold: the claim is right").check()
    admin.fill("textarea[name=reason]", "The artist's registration and portfolio came first.")
    admin.fill(
        "textarea[name=urgent_reason]", "The copy is on sale now; the artist's anchor is a year older."
    )
    admin.get_by_test_id("decide").click()
    expect(admin.get_by_text(f"Dispute #{dispute.pk} upheld.")).to_be_visible()

    anchoring.anchor_tick(ctx=ctx)  # the revocation joins the next batch
    chain.provider.make_request("evm_mine", [])
    anchoring.anchor_tick(ctx=ctx)

    page.goto(f"{live_server.url}{stolen.get_absolute_url()}")
    expect(page.get_by_test_id("provenance-status")).to_have_text("revoked by a moderator")
    expect(page.get_by_test_id("revoked")).to_contain_text("anchored on chain")
    page.screenshot(path=SHOTS + "work-revoked-phone.png", full_page=True)
    page.goto(f"{live_server.url}/verify")
    page.set_input_files("input[name=file]", str(art))
    page.get_by_test_id("verify-submit").click()
    revoked = page.locator("article.result", has_text="Harbour (not mine)")
    expect(revoked.get_by_test_id("verify-verdict")).to_have_text("Revoked")
    expect(page.get_by_test_id("verify-revoked")).to_contain_text("anchored on chain")
    page.screenshot(path=SHOTS + "verify-revoked-phone.png", full_page=True)
    page.goto(f"{live_server.url}{dispute.get_absolute_url()}")
    expect(page.get_by_test_id("decision")).to_contain_text("the registration was revoked")
    page.screenshot(path=SHOTS + "decided-phone.png", full_page=True)
