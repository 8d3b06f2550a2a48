"""Turning any accepted image into pixels people and hashes can use.

`to_rgb` is shared by the previews and the PDQ normalisation (registration and the dataset
audit), so a 16-bit PNG is scaled rather than clipped to white, and transparency is laid on one
neutral background everywhere.
"""

import io
import math

from PIL import Image, ImageOps

NEUTRAL = (128, 128, 128)
PREVIEW_SIZE = 1600
THUMBNAIL_SIZE = 480


def has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def _to_8bit(image: Image.Image) -> Image.Image:
    """16-bit and 32-bit greyscale ('I;16', 'I', 'F') to 8-bit 'L' by scaling, not clipping."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return image.point(lambda v: v / 257, "L") if image.mode == "I;16" else _to_8bit(image.convert("I"))
    if image.mode == "I":
        low, high = image.getextrema()
        scale = 255 / 65535 if high > 255 or low < 0 else 1
        return image.point(lambda v: v * scale, "L") if scale != 1 else image.convert("L")
    if image.mode == "F":
        return image.convert("L")
    return image


def to_rgb(image: Image.Image, *, background=NEUTRAL) -> Image.Image:
    """RGB pixels of any accepted image: deep greyscale scaled to 8 bits, alpha composited on
    `background`."""
    image = _to_8bit(image)
    if has_alpha(image):
        rgba = image.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, (*background, 255))
        flat.alpha_composite(rgba)
        return flat.convert("RGB")
    return image.convert("RGB")


def renders(image: Image.Image, sizes: list[int]) -> list[tuple[bytes, str]]:
    """Re-encoded copies at most each `size` px on the long side, orientation applied, no
    metadata (EXIF, GPS) carried over: [(bytes, extension)] in the order asked. Transparent
    images stay transparent (WebP). The picture is oriented and converted once, and
    each smaller copy is made from the one before (a thumbnail from the preview, not from the
    full-size original)."""
    scale = max(sizes) / max(image.size)
    if image.format == "JPEG" and scale < 1:
        # Decode at the smallest DCT scale that still covers the largest copy: a 4000x3000
        # photo decodes at 2000x1500 for a 1600 px preview, a quarter of the work.
        image.draft("RGB", (math.ceil(image.size[0] * scale), math.ceil(image.size[1] * scale)))
    image = ImageOps.exif_transpose(image)
    alpha = has_alpha(image)
    copy = _to_8bit(image).convert("RGBA") if alpha else to_rgb(image)
    out = []
    for size in sorted(sizes, reverse=True):
        copy = copy.copy() if out else copy
        # reducing_gap=1: a box reduction by whole factors first, then Lanczos over the last
        # factor of 1 to 2; twice as fast as Lanczos all the way, and no visible difference
        copy.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=1.0)
        buffer = io.BytesIO()
        if alpha:
            copy.save(buffer, format="WEBP", quality=85, method=4)
            out.append((buffer.getvalue(), ".webp"))
        else:
            copy.save(buffer, format="JPEG", quality=85, optimize=True, progressive=True)
            out.append((buffer.getvalue(), ".jpg"))
    by_size = dict(zip(sorted(sizes, reverse=True), out, strict=True))
    return [by_size[size] for size in sizes]
