"""Bad files get a clear message and leave nothing behind."""

import io
import struct

import pytest
from PIL import Image

from tests.fixtures.images import make_image, upload_file
from works import validation
from works.validation import InvalidImage, image_check


def _refused(data, name="art.jpg"):
    with pytest.raises(InvalidImage) as exc:
        image_check(upload_file(data, name))
    return exc.value.message


@pytest.mark.parametrize("fmt,name", [("JPEG", "a.jpg"), ("PNG", "a.png"), ("WEBP", "a.webp")])
def test_it_accepts_the_whitelisted_formats(fmt, name):
    checked = image_check(upload_file(make_image(fmt=fmt), name))
    assert checked.format == fmt
    assert (checked.width, checked.height) == (640, 480)


def test_it_refuses_a_decompression_bomb(settings):
    settings.WORKS_MAX_MEGAPIXELS = 1
    buffer = io.BytesIO()
    Image.new("L", (2000, 1000)).save(buffer, format="PNG")
    message = _refused(buffer.getvalue(), "bomb.png")
    assert message == validation.ERR_TOO_MANY_PIXELS.format(width=2000, height=1000, mp=2.0, limit=1)


def test_it_refuses_a_truncated_file():
    data = make_image()
    assert _refused(data[: len(data) // 2]) == validation.ERR_TRUNCATED


def test_it_refuses_a_png_renamed_to_jpg():
    assert _refused(make_image(fmt="PNG"), "art.jpg") == validation.ERR_EXTENSION.format(
        ext=".jpg", actual="PNG", expected=".png"
    )


def test_it_refuses_an_svg():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'
    assert _refused(svg, "art.svg") == validation.ERR_NOT_IMAGE


def test_it_refuses_a_gif():
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, format="GIF")
    assert _refused(buffer.getvalue(), "art.jpg") == validation.ERR_NOT_IMAGE


@pytest.mark.parametrize("fmt,name", [("JPEG", "a.jpg"), ("PNG", "a.png"), ("WEBP", "a.webp")])
def test_it_refuses_a_polyglot_with_trailing_bytes(fmt, name):
    data = make_image(fmt=fmt) + b"PK\x03\x04" + b"hidden zip payload" * 10
    message = _refused(data, name)
    assert message.startswith("The file has ")
    assert "unexpected bytes after the end of the image" in message


def test_it_refuses_a_file_over_the_size_limit(settings):
    settings.WORKS_MAX_UPLOAD_BYTES = 1000
    message = _refused(make_image())
    assert message != validation.ERR_EMPTY and message.endswith("the limit is 1000 bytes.")


def test_it_refuses_an_empty_file():
    assert _refused(b"") == validation.ERR_EMPTY


def test_it_refuses_a_webp_whose_riff_size_lies():
    data = bytearray(make_image(fmt="WEBP"))
    data[4:8] = struct.pack("<I", len(data) * 2)
    assert _refused(bytes(data), "a.webp") in (validation.ERR_TRUNCATED, validation.ERR_NOT_IMAGE)


@pytest.mark.parametrize("fmt,name", [("PNG", "bomb.png"), ("JPEG", "bomb.jpg"), ("WEBP", "bomb.webp")])
def test_a_pillow_decompression_bomb_is_named_with_its_real_size(monkeypatch, fmt, name):
    """Pillow refuses before telling the size; the message still gives it (not '?×?')."""
    buffer = io.BytesIO()
    Image.new("RGB", (2000, 1000)).save(buffer, format=fmt)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 400_000)  # 2 MP is a "bomb" beyond 800 kP
    message = _refused(buffer.getvalue(), name)
    assert "2000×1000" in message and "(2 megapixels)" in message and "?" not in message
