"""Opening an uploaded image safely: an explicit format whitelist, size and pixel limits, and
structural checks that refuse truncated files and polyglots (bytes after the image's end)."""

import struct
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, UnidentifiedImageError

from core.errors import PortalError

FORMATS = {
    "JPEG": ("image/jpeg", {".jpg", ".jpeg"}),
    "PNG": ("image/png", {".png"}),
    "WEBP": ("image/webp", {".webp"}),
}

ERR_TOO_LARGE = "The file is {size}; the limit is {limit}."
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


class InvalidImage(PortalError):
    code = "invalid_image"


def human_size(size: int) -> str:
    """Bytes in binary units, as people read them: 52428800 -> '50 MiB'."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"


_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def header_size(head: bytes) -> tuple[int, int]:
    """(width, height) read from the first bytes of a JPEG, PNG or WebP, without decoding."""
    if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) >= 24:
        return struct.unpack(">II", head[16:24])
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        chunk = head[12:16]
        if chunk == b"VP8X" and len(head) >= 30:
            return 1 + int.from_bytes(head[24:27], "little"), 1 + int.from_bytes(head[27:30], "little")
        if chunk == b"VP8L" and len(head) >= 25:
            bits = int.from_bytes(head[21:25], "little")
            return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
        if chunk == b"VP8 " and len(head) >= 30:
            return int.from_bytes(head[26:28], "little") & 0x3FFF, int.from_bytes(
                head[28:30], "little"
            ) & 0x3FFF
    if head[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(head):
            if head[i] != 0xFF:
                break
            marker = head[i + 1]
            (length,) = struct.unpack(">H", head[i + 2 : i + 4])
            if marker in _SOF_MARKERS:
                height, width = struct.unpack(">HH", head[i + 5 : i + 9])
                return width, height
            i += 2 + length
    raise InvalidImage(ERR_NOT_IMAGE)


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
            while True:  # jump from 0xFF to 0xFF (bytes.find), not byte by byte
                j = data.find(b"\xff", i, n - 1)
                if j < 0:
                    i = n - 1
                    break
                following = data[j + 1]
                if following != 0x00 and not 0xD0 <= following <= 0xD7 and following != 0xFF:
                    i = j
                    break
                i = j + 1
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
        raise InvalidImage(ERR_TOO_LARGE.format(size=human_size(size), limit=human_size(limit)))
    name = (uploaded.name or "").lower()
    ext = "." + name.rsplit(".", 1)[-1] if "." in name else ""

    uploaded.seek(0)
    try:
        image = Image.open(uploaded, formats=list(FORMATS))
    except Image.DecompressionBombError:
        # Pillow refuses before telling us the size: read it from the header ourselves.
        uploaded.seek(0)
        width, height = header_size(uploaded.read(1 << 16))
        raise InvalidImage(
            ERR_TOO_MANY_PIXELS.format(
                width=width, height=height, mp=width * height / 1e6, limit=settings.WORKS_MAX_MEGAPIXELS
            )
        )
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise InvalidImage(ERR_NOT_IMAGE)
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
