"""The review's walkthrough, in chromium: a creator, a buyer and a moderator, at desktop and
phone widths, with a screenshot of every page they see (var/screenshots/walkthrough-*)."""

import re

import pytest
from eth_account import Account
from playwright.sync_api import expect

from licensing.models import Licence
from licensing.tests.helpers import fund, index, mine
from tests.fixtures.browser import BrowserWallet
from tests.fixtures.images import make_image

pytestmark = [pytest.mark.browser, pytest.mark.anvil]
PHONE = {"width": 390, "height": 844}
SHOTS = "var/screenshots/walkthrough-"
WIDE = """() => {
  const width = document.documentElement.clientWidth, out = [];
  for (const el of document.querySelectorAll("body *")) {
    const right = el.getBoundingClientRect().right;
    if (right > width + 1) out.push(`${el.tagName}.${el.className} ${Math.round(right)}px`);
  }
  return out.slice(0, 8);
}"""


def _person(browser, chain, live_server, wallet_chain=31337, **context):
    page = browser.new_context(**context).new_page()
    wallet = BrowserWallet(page, Account.create(), chain_id=wallet_chain)
    wallet.w3 = chain
    fund(chain, wallet.account.address)
    page.goto(f"{live_server.url}/auth/signin")
    page.get_by_test_id("connect-wallet").click()
    page.wait_for_url(re.compile(r"/dashboard/$"))
    return page, wallet


def _menu_is_one_row(page):
    """The top bar at this width: brand, menu and account on one line."""
    tops = page.evaluate(
        """() => [...document.querySelectorAll('.topbar .brand, .nav > a, .nav > details > summary')]
                 .map(el => Math.round(el.getBoundingClientRect().top))"""
    )
    assert max(tops) - min(tops) <= 12, tops


def _fits_the_screen(page):
    page.wait_for_load_state("load")  # the stylesheet too: an unstyled page is wider
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    wide = page.evaluate(WIDE) if overflow > 1 else []
    assert overflow <= 1, f"{page.url} is {overflow}px wider than the screen: {wide}"


def test_creator_buyer_and_moderator_walk_through(
    live_server, browser, chain, settings, tmp_path, register, outsider
):
    art = tmp_path / "lagoon.jpg"
    art.write_bytes(make_image(seed=4242, size=(1200, 800)))

    # The creator names themself, uploads, signs and publishes an AI-training offer.
    creator, _ = _person(browser, chain, live_server)
    creator.goto(f"{live_server.url}/profile/")
    creator.fill("input[name=display_name]", "Mira Okafor")
    creator.get_by_role("button", name="Save").click()
    expect(creator.get_by_text("Profile saved.")).to_be_visible()
    creator.goto(f"{live_server.url}/dashboard/")
    creator.get_by_test_id("register-work").first.click()
    creator.set_input_files("input[type=file]", str(art))
    creator.fill("input[name=title]", "Lagoon at noon")
    creator.get_by_test_id("upload-submit").click()
    creator.wait_for_url(re.compile(r"/works/\d+/$"))
    work_url = creator.url
    creator.get_by_test_id("sign-registration").click()
    expect(creator.get_by_test_id("provenance-status")).to_have_text("pending")
    expect(creator.get_by_test_id("work-creator")).to_contain_text("Mira Okafor")
    creator.get_by_test_id("add-offer").click()
    creator.locator("[data-preset=ai_training]").click()  # the preset card fills the form in place
    expect(creator.locator("select[name=ai_training]")).to_have_value("paid")
    assert "preset=ai_training" in creator.url
    creator.screenshot(path=SHOTS + "offer-form.png", full_page=True)
    creator.get_by_test_id("publish-offer").click()
    creator.wait_for_url(work_url)
    creator.screenshot(path=SHOTS + "creator-work.png", full_page=True)

    # The creator edits the offer: a new version replaces it, named after what it now grants.
    creator.get_by_test_id("edit-offer").click()
    expect(creator.get_by_test_id("edit-explained")).to_contain_text("retires this one")
    creator.select_option("select[name=genai_training]", "prohibited")
    creator.screenshot(path=SHOTS + "offer-edit.png", full_page=True)
    creator.get_by_test_id("publish-offer").click()
    creator.wait_for_url(re.compile(re.escape(work_url) + "#offers$"))
    expect(creator.get_by_test_id("offer")).to_have_count(1)
    expect(creator.get_by_test_id("offer").locator("h3")).to_have_text("Personal use, AI training paid")
    expect(creator.get_by_text("is retired")).to_be_visible()
    creator.set_viewport_size({"width": 1024, "height": 800})
    _menu_is_one_row(creator)
    creator.set_viewport_size({"width": 1280, "height": 800})

    # A buyer on a phone, their wallet on mainnet: it is asked to add and switch to the portal's
    # chain before signing in; they find the work, buy the licence with AI training, and get
    # the certificate.
    buyer, buyer_wallet = _person(browser, chain, live_server, wallet_chain=1, viewport=PHONE)
    assert buyer_wallet.requests[:3] == [
        "wallet_switchEthereumChain",
        "wallet_addEthereumChain",
        "personal_sign",
    ]
    expect(buyer.get_by_text("Welcome, creator")).to_have_count(0)
    buyer.screenshot(path=SHOTS + "buyer-dashboard-phone.png", full_page=True)
    _fits_the_screen(buyer)
    buyer.goto(f"{live_server.url}/catalogue?creator=Mira+Okafor")
    expect(buyer.get_by_test_id("catalogue-item")).to_have_count(1)
    _fits_the_screen(buyer)
    buyer.fill("input[name=min_price]", "lots")
    buyer.press("input[name=min_price]", "Tab")  # a change: htmx refreshes the results in place
    expect(buyer.get_by_test_id("filter-errors")).to_contain_text("Min price (ETH): Enter an amount in ETH")
    buyer.goto(work_url)
    _fits_the_screen(buyer)
    buyer.get_by_test_id("use-ai_training").check()
    buyer.get_by_test_id("buy-offer").click()
    buyer.wait_for_url(re.compile(r"/quotes/0x[0-9a-f]{64}/$"))
    expect(buyer.get_by_test_id("quote-expiry")).to_contain_text(re.compile(r"\d{4}, \d\d:\d\d"))
    _fits_the_screen(buyer)
    buyer.screenshot(path=SHOTS + "quote-phone.png", full_page=True)
    buyer.get_by_test_id("pay").click()
    expect(buyer.get_by_test_id("purchase-state")).to_contain_text("waiting for 2 confirmations")
    mine(chain, settings.CHAIN_CONFIRMATIONS)
    index(chain)
    expect(buyer.get_by_test_id("purchase-state")).to_have_text("Licensed.", timeout=10_000)
    buyer.get_by_test_id("certificate-link").click()
    expect(buyer.get_by_test_id("licensor")).to_contain_text("Mira Okafor")
    expect(buyer.get_by_test_id("uses-bought")).to_have_text("Licence, AI training")
    _fits_the_screen(buyer)
    buyer.screenshot(path=SHOTS + "certificate-phone.png", full_page=True)
    buyer.goto(work_url)
    expect(buyer.get_by_test_id("held-licence")).to_be_visible()
    licence = Licence.objects.get()
    assert licence.licensee_address == buyer_wallet.account.address

    # The creator's bell says there is news; the notification leads to the licence sold.
    creator.goto(f"{live_server.url}/dashboard/")
    expect(creator.get_by_test_id("bell-count")).to_have_text("1")
    creator.get_by_test_id("bell").click()
    expect(creator.get_by_test_id("notification").first).to_contain_text("“Lagoon at noon” sold")
    creator.screenshot(path=SHOTS + "notifications.png", full_page=True)
    creator.set_viewport_size(PHONE)
    _fits_the_screen(creator)
    creator.screenshot(path=SHOTS + "notifications-phone.png", full_page=True)
    creator.set_viewport_size({"width": 1280, "height": 800})
    creator.get_by_test_id("notification").first.get_by_role("link").click()
    creator.wait_for_url(re.compile(rf"/licences/{licence.pk}/$"))
    expect(creator.get_by_test_id("bell-count")).to_have_count(0)

    # A stranger cannot read the licence; they verify the certificate the buyer hands them.
    document = buyer.request.get(f"{live_server.url}/licences/{licence.pk}.json").text()
    stranger = browser.new_context().new_page()
    assert stranger.goto(f"{live_server.url}/licences/{licence.pk}/").status == 404
    expect(stranger.get_by_text("Browse the catalogue")).to_be_visible()  # the 404 page has a way on
    stranger.goto(f"{live_server.url}/licences/verify")
    stranger.fill("textarea[name=text]", document)
    stranger.get_by_test_id("certificate-submit").click()
    expect(stranger.get_by_test_id("certificate-verdict")).to_have_text("Genuine and valid")

    # A copy by another creator is held; the moderator releases it in admin.
    held = register(outsider, seed=0, title="Lagoon copy", image=art.read_bytes())
    assert held.registration.status == "held"
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("mod", "mod@example.org", "walkthrough-pass-1")
    moderator = browser.new_context().new_page()
    moderator.goto(f"{live_server.url}/admin/works/registration/?status__exact=held")
    moderator.fill("input[name=username]", "mod")
    moderator.fill("input[name=password]", "walkthrough-pass-1")
    moderator.locator("input[type=submit]").click()
    expect(moderator.get_by_text("identical file")).to_be_visible()
    moderator.screenshot(path=SHOTS + "moderator-queue.png", full_page=True)
    moderator.locator(f"input[name=_selected_action][value='{held.registration.pk}']").check()
    moderator.select_option("select[name=action]", "release")
    moderator.get_by_role("button", name="Go").click()
    expect(moderator.get_by_text("Released 1 registration(s).")).to_be_visible()
