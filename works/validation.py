"""Opening an uploaded image safely: an explicit format whitelist, size and pixel limits, and
structural checks that refuse truncated files and polyglots (bytes after the image's end)."""

import struct
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, UnidentifiedImageError

FORMATS = {
    "JPEG": ("image/jpeg", {".jpg", ".jpeg"}),
    "PNG": ("image/png", {".png"}),
    "WEBP": ("image/webp", {".webp"}),
}

ERR_TOO_LARGE = "The file is {size_mb:.1f} MB; the limit is {limit_mb:.0f} MB."
ERR_EMPTY = "The file is empty."
ERR_NOT_IMAGE = "This is not a JPEG, PNG or WebP image (SVG, GIF, HEIC and other formats are not accepted)."
ERR_EXTENSION = (
    "The file's name ends in {ext} but it is a {actual} image; rename it to {expected} and try again."
)
ERR_NO_EXTENSION = "The file's name must end in .jpg, .jpeg, .png or .webp."
ERR_TOO_MANY_PIXELS = (
    "The image is {width}×{height} ({mp:.0f} megapixels); the limit is {limit:.0f} megapixels."
)
ERR_TRUNCATED = "The image is damaged or incomplete (truncated); export it again and re-upload."
ERR_TRAILING = (
    "The file has {count} unexpected bytes after the end of the image (possibly another file "
    "hidden inside); export it again as a plain image."
)
ERR_ANIMATED = "Animated images are not accepted; upload a still image."


class InvalidImage(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass
class CheckedImage:
    format: str
    mime: str
    width: int
    height: int
    size: int


def _jpeg_end(data: bytes) -> int:
    """Offset just past the EOI marker of the first JPEG image in data, walking its segments."""
    if data[:2] != b"\xff\xd8":
        raise InvalidImage(ERR_TRUNCATED)
    i = 2
    n = len(data)
    while i < n:
        if data[i] != 0xFF:
            raise InvalidImage(ERR_TRUNCATED)
        while i < n and data[i] == 0xFF:
            i += 1
        if i >= n:
            break
        marker = data[i]
        i += 1
        if marker == 0xD9:
            return i
        if marker in (0x01, *range(0xD0, 0xD8)):
            continue
        if i + 2 > n:
            break
        (length,) = struct.unpack(">H", data[i : i + 2])
        i += length
        if marker == 0xDA:  # start of scan: entropy-coded data runs until a real marker
            while i < n - 1:
                if data[i] == 0xFF and data[i + 1] not in (0x00, *range(0xD0, 0xD8)) and data[i + 1] != 0xFF:
                    break
                i += 1
    raise InvalidImage(ERR_TRUNCATED)


def _png_end(data: bytes) -> int:
    i = 8
    n = len(data)
    while i + 8 <= n:
        (length,) = struct.unpack(">I", data[i : i + 4])
        kind = data[i + 4 : i + 8]
        i += 12 + length
        if kind == b"IEND":
            if i > n:
                break
            return i
    raise InvalidImage(ERR_TRUNCATED)


def _webp_end(data: bytes) -> int:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise InvalidImage(ERR_TRUNCATED)
    (size,) = struct.unpack("<I", data[4:8])
    end = 8 + size + (size & 1)
    if end > len(data):
        raise InvalidImage(ERR_TRUNCATED)
    return end


_END_FINDERS = {"JPEG": _jpeg_end, "PNG": _png_end, "WEBP": _webp_end}


def image_check(uploaded) -> CheckedImage:
    """Validate an uploaded file; raise InvalidImage with a message the user can act on."""
    size = uploaded.size
    limit = settings.WORKS_MAX_UPLOAD_BYTES
    if size == 0:
        raise InvalidImage(ERR_EMPTY)
    if size > limit:
        raise InvalidImage(ERR_TOO_LARGE.format(size_mb=size / 1e6, limit_mb=limit / 1e6))
    name = (uploaded.name or "").lower()
    ext = "." + name.rsplit(".", 1)[-1] if "." in name else ""

    uploaded.seek(0)
    try:
        image = Image.open(uploaded, formats=list(FORMATS))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise InvalidImage(ERR_NOT_IMAGE)
    except Image.DecompressionBombError:
        raise InvalidImage(
            ERR_TOO_MANY_PIXELS.format(width="?", height="?", mp=0, limit=settings.WORKS_MAX_MEGAPIXELS)
        )
    fmt = image.format
    mime, extensions = FORMATS[fmt]
    if not ext:
        raise InvalidImage(ERR_NO_EXTENSION)
    if ext not in extensions:
        raise InvalidImage(ERR_EXTENSION.format(ext=ext, actual=fmt, expected=sorted(extensions)[0]))
    width, height = image.size
    pixels = width * height
    if pixels > settings.WORKS_MAX_MEGAPIXELS * 1_000_000:
        raise InvalidImage(
            ERR_TOO_MANY_PIXELS.format(
                width=width, height=height, mp=pixels / 1e6, limit=settings.WORKS_MAX_MEGAPIXELS
            )
        )
    if getattr(image, "is_animated", False) and getattr(image, "n_frames", 1) > 1:
        raise InvalidImage(ERR_ANIMATED)
    try:
        image.load()
    except Image.DecompressionBombError:
        raise InvalidImage(
            ERR_TOO_MANY_PIXELS.format(
                width=width, height=height, mp=pixels / 1e6, limit=settings.WORKS_MAX_MEGAPIXELS
            )
        )
    except (OSError, SyntaxError, ValueError, struct.error):
        raise InvalidImage(ERR_TRUNCATED)

    uploaded.seek(0)
    data = uploaded.read()
    uploaded.seek(0)
    end = _END_FINDERS[fmt](data)
    trailing = data[end:]
    if trailing.strip(b"\x00"):
        raise InvalidImage(ERR_TRAILING.format(count=len(trailing)))
    return CheckedImage(format=fmt, mime=mime, width=width, height=height, size=size)
