"""Previews and thumbnails: the sizes asked, and no visible loss from the fast path (a reduced
JPEG decode, a box reduction before Lanczos)."""

import io
import random

import numpy as np
from PIL import Image, ImageDraw

from tests.fixtures.images import make_image
from works.imaging import renders


def _detailed_photo() -> bytes:
    """4000x3000 with fine lines everywhere: where a blur or aliasing would show."""
    rng = random.Random(3)
    image = Image.new("RGB", (4000, 3000), (240, 235, 220))
    draw = ImageDraw.Draw(image)
    for _ in range(3000):
        x, y = rng.randrange(4000), rng.randrange(3000)
        end = (x + rng.randrange(-300, 300), y + rng.randrange(-300, 300))
        draw.line((x, y, *end), fill=tuple(rng.randrange(256) for _ in range(3)), width=rng.choice((2, 3, 5)))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def _pixels(image: Image.Image):
    return np.asarray(image.convert("RGB"), dtype=np.int16)


def _encoded(image: Image.Image) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85, optimize=True, progressive=True)
    return Image.open(io.BytesIO(buffer.getvalue()))


def test_a_large_photo_gets_its_preview_and_thumbnail_without_visible_loss():
    data = _detailed_photo()
    made = renders(Image.open(io.BytesIO(data)), [1600, 480])
    for (copy, ext), size in zip(made, (1600, 480), strict=True):
        assert ext == ".jpg"
        reference = Image.open(io.BytesIO(data)).convert("RGB")  # full decode, Lanczos all the way
        reference.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=None)
        ours = Image.open(io.BytesIO(copy))
        assert ours.size == reference.size == (size, size * 3 // 4)
        # Against the reference, ours differs by little more than re-encoding the reference does
        # (a 1 px blur or nearest-neighbour sampling differ by 4-6 more on this picture).
        baseline = np.abs(_pixels(_encoded(reference)) - _pixels(reference)).mean()
        difference = np.abs(_pixels(ours) - _pixels(reference)).mean()
        assert difference < baseline + 1.0, (difference, baseline)


def test_sizes_come_back_in_the_order_asked_and_small_pictures_are_not_enlarged():
    data = make_image(seed=12, size=(640, 480))
    small, large = renders(Image.open(io.BytesIO(data)), [480, 1600])
    assert Image.open(io.BytesIO(small[0])).size == (480, 360)
    assert Image.open(io.BytesIO(large[0])).size == (640, 480)
