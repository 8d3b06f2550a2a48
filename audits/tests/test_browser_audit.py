"""In chromium, against real Celery workers over Redis: an AI company's admin uploads a small
manifest and two shards, watches the progress bar move, opens the report and sees each
near-duplicate beside the registered work; the same on a phone."""

import hashlib
import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from audits.models import Audit
from audits.synthetic import edited, encode, picture, write_shard
from tests.fixtures.browser import BrowserWallet

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


def _signed_in(browser, live_server, account, *, width=1280):
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    BrowserWallet(page, account)
    page.goto(f"{live_server.url}/auth/signin")
    page.get_by_test_id("connect-wallet").click()
    page.wait_for_url(re.compile(r"/dashboard/$"))
    return page


def test_upload_watch_the_progress_and_read_the_evidence(
    live_server, browser, celery_workers, publish, creator, ai_company, org, tmp_path
):
    celery_workers("w1")
    works = [publish(creator, picture(600 + i), title=f"Harbour study {i}") for i in range(2)]
    manifest = tmp_path / "laion-mini.csv"
    manifest.write_text(
        "uid,url,sha256\n"
        + "".join(
            f"r{i},https://cdn.example/{i}.jpg,{hashlib.sha256(str(i).encode()).hexdigest()}\n"
            for i in range(500)
        )
        + f"planted,https://cdn.example/p.jpg,{hashlib.sha256(works[0][1]).hexdigest()}\n"
    )
    shards = []
    filler = [encode(picture(700 + k, (512, 384)), "JPEG") for k in range(20)]
    for n, edit in enumerate(["cropped", "mirrored"]):
        copy = encode(edited(Image.open(io.BytesIO(works[n][1])), edit, n), "JPEG", 85)
        items = [{"key": f"{n}{k:04d}", "data": filler[k % 20]} for k in range(400)]
        items.insert(200, {"key": f"{n}-copy", "data": copy})
        shard = tmp_path / f"0000{n}.tar"
        write_shard(shard, items)
        shards.append(shard)

    page = _signed_in(browser, live_server, ai_company.account)
    page.get_by_test_id("menu-ai").locator("summary").click()
    page.get_by_role("link", name="Dataset audits").click()
    page.fill("input[name=name]", "LAION mini")
    page.set_input_files("input[name=files]", [str(manifest), *map(str, shards)])
    page.select_option("select[name=org]", label="Acme AI")
    page.get_by_test_id("start-audit").click()

    bar = page.get_by_test_id("audit-progress-bar")
    expect(bar).to_be_visible()
    assert page.get_by_test_id("audit-progress").get_attribute("data-state") in ("queued", "running")
    page.screenshot(path="var/screenshots/audit-progress.png", full_page=True)
    expect(page.get_by_test_id("audit-totals")).to_be_visible(timeout=120_000)  # the report replaced the bar
    audit = Audit.objects.get()
    assert audit.status == "done" and audit.org == org

    expect(page.get_by_test_id("works-found")).to_have_text("2")
    near = page.locator("[data-testid=audit-match][data-kind=pdq]")
    expect(near).to_have_count(2)
    for i in range(2):
        card = near.nth(i)
        for image in (card.get_by_test_id("evidence-image"), card.get_by_test_id("work-image")):
            expect(image).to_be_visible()
            assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    expect(page.locator("[data-testid=audit-match][data-kind=sha256]")).to_contain_text(
        "laion-mini.csv row 502"
    )
    expect(page.get_by_test_id("audit-licensing")).to_contain_text("prohibited")
    page.screenshot(path="var/screenshots/audit-report.png", full_page=True)

    phone = _signed_in(browser, live_server, ai_company.account, width=390)
    phone.goto(f"{live_server.url}{audit.get_absolute_url()}")
    expect(phone.locator("[data-testid=audit-match]").first).to_be_visible()
    phone.screenshot(path="var/screenshots/audit-report-phone.png", full_page=True)
