"""In chromium, on real photographs: anyone drops a picture on the verify page and learns which
registered work it copies (a captioned copy of a registered photo) or only resembles (another
frame of a registered scene: "similar, not a copy"), on a desktop and a phone width."""

import pytest
from playwright.sync_api import expect

from tests.fixtures.photos import PhotosMissing, edited, encode, photo_set
from tests.fixtures.services import require_service

pytestmark = [pytest.mark.browser, pytest.mark.anvil]


def test_verify_tells_a_copy_from_a_look_alike(live_server, page, register, creator, tmp_path):
    try:
        photos = photo_set()
    except PhotosMissing as exc:
        require_service(False, str(exc))
    by_name = dict(photos.originals)
    register(creator, seed=0, title="Coffee cup", image=encode(by_name["skimage/coffee.png"], "JPEG", 92))
    register(
        creator, seed=0, title="Left frame", image=encode(by_name["skimage/motorcycle_left.png"], "JPEG", 92)
    )
    (right,) = [image for _, name, image in photos.lookalikes if name == "skimage/motorcycle_right.png"]
    captioned = tmp_path / "meme.jpg"
    captioned.write_bytes(encode(edited(by_name["skimage/coffee.png"], "caption_bar", seed=4), "JPEG", 85))
    frame = tmp_path / "frame.jpg"
    frame.write_bytes(encode(right, "JPEG", 85))

    page.goto(f"{live_server.url}/verify")
    page.set_input_files("input[type=file]", str(captioned))
    page.get_by_test_id("verify-submit").click()
    expect(page.get_by_test_id("verify-none")).to_be_visible()  # not this exact file…
    copy = page.get_by_test_id("verify-near").locator("li")
    expect(copy).to_have_count(1)  # …but a copy of one registered work
    expect(copy).to_have_attribute("data-verdict", "copy")
    expect(copy).to_contain_text("Coffee cup")
    page.screenshot(path="var/screenshots/verify-copy.png", full_page=True)

    page.set_input_files("input[type=file]", str(frame))
    page.get_by_test_id("verify-submit").click()
    alike = page.get_by_test_id("verify-near").locator("li")
    expect(alike).to_have_count(1)
    expect(alike).to_have_attribute("data-verdict", "similar")
    expect(alike).to_contain_text("Left frame")
    expect(alike).to_contain_text("similar, not a copy")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path="var/screenshots/verify-similar-phone.png", full_page=True)
