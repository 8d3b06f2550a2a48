"""In chromium: an artist uploads a zip, a loose picture and a CSV into a portfolio, sees the
refusal by file name, signs once, and every work is registered and offered on the preset."""

import re
import zipfile

import pytest
from django.db import connection
from playwright.sync_api import expect

from licensing.models import Offer
from tests.fixtures.images import make_image
from works.models import Portfolio, Registration

pytestmark = [pytest.mark.browser, pytest.mark.anvil]


def test_a_zip_and_a_csv_become_works_registered_with_one_signature(
    live_server, page, browser_wallet, chain, tmp_path, settings
):
    if connection.vendor == "sqlite":  # the in-memory test database takes one writer at a time
        settings.PORTFOLIO_UPLOADS_AT_ONCE = 1
    archive = tmp_path / "sketchbook.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for i in range(4):
            zipped.writestr(f"sketchbook/page_{i}.jpg", make_image(seed=700 + i, size=(640, 480)))
        zipped.writestr("__MACOSX/sketchbook/._page_0.jpg", b"resource fork")
        zipped.writestr("sketchbook/notes.txt", b"not a picture")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    sheet = tmp_path / "titles.csv"
    sheet.write_text(
        "file,title,year,description\npage_0.jpg,Harbour at dusk,2019,Ink\npage_1.jpg,Gulls,2020,\n"
    )

    page.goto(f"{live_server.url}/auth/signin")
    page.get_by_test_id("connect-wallet").click()
    page.wait_for_url(re.compile(r"/dashboard/$"))
    page.get_by_test_id("register-many").click()
    page.fill("input[name=title]", "Sketchbook 2019")
    page.select_option("select[name=preset]", "commercial_use")
    page.get_by_test_id("portfolio-create").click()
    page.wait_for_url(re.compile(r"/works/portfolios/\d+/$"))

    page.get_by_test_id("portfolio-csv").set_input_files(str(sheet))
    expect(page.get_by_test_id("portfolio-status")).to_have_text("The CSV names 2 pictures; add them now.")
    page.get_by_test_id("portfolio-files").set_input_files([str(archive), str(broken)])
    expect(page.get_by_test_id("portfolio-status")).to_have_text(
        "4 of 5 pictures added; 1 refused, listed below."
    )
    expect(page.get_by_test_id("portfolio-refused")).to_contain_text("broken.jpg")
    expect(page.get_by_test_id("portfolio-progress")).to_have_attribute("value", "5")
    page.screenshot(path="var/screenshots/portfolio-upload.png", full_page=True)

    page.get_by_test_id("portfolio-continue").click()
    expect(page.get_by_test_id("portfolio-works").locator("li")).to_have_count(4)
    expect(page.get_by_test_id("portfolio-works")).to_contain_text("Harbour at dusk")
    browser_wallet.w3 = chain
    page.get_by_test_id("sign-portfolio").click()
    expect(page.get_by_test_id("portfolio-summary")).to_contain_text("4 works · signed")
    page.screenshot(path="var/screenshots/portfolio-signed.png", full_page=True)

    signed = [s for s in browser_wallet.signed if isinstance(s, dict)]
    assert [s["primaryType"] for s in signed] == ["Portfolio"], "one signature for every work"
    portfolio = Portfolio.objects.get()
    assert portfolio.count == 4 and portfolio.typed_data["message"]["count"] == 4
    registrations = Registration.objects.filter(portfolio=portfolio)
    assert {r.status for r in registrations} == {Registration.Status.PENDING}
    titled = registrations.get(work__title="Harbour at dusk").work
    assert titled.year == 2019 and titled.description == "Ink"
    assert Offer.objects.filter(work__registration__portfolio=portfolio).count() == 4

    page.get_by_test_id("portfolio-works").get_by_role("link", name="Harbour at dusk").click()
    expect(page.get_by_test_id("signed-with")).to_contain_text("one signature for a portfolio of 4 works")
    page.screenshot(path="var/screenshots/portfolio-work.png", full_page=True)
