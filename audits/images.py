"""Dataset images: decoded safely, then matched with the registry's one matcher.

1. Decode safely (formats whitelist, pixel limit before decoding: a decompression bomb is a bad
   item, not a crash), then the registration's normalisation (`works.fingerprints`).
2. The query the registration uses too (`works.matching.query`: dihedral, trimmed and windowed
   PDQ hashes); `works.matching.find` says which works it is a copy of, or only similar to.
   bench/audit.py measures recall per kind of edit and precision against look-alikes on real
   photographs.
"""

import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, UnidentifiedImageError

from works.fingerprints import normalise_for_pdq
from works.matching import Query, query

FORMATS = ["JPEG", "PNG", "WEBP"]
ERR_NOT_IMAGE = "not a JPEG, PNG or WebP image"
ERR_BOMB = "{w}×{h} pixels is over the {limit:,}-pixel limit (a decompression bomb?)"
ERR_DAMAGED = "damaged image: {error}"


class BadImage(Exception):
    pass


@dataclass
class Decoded:
    normalised: Image.Image  # RGB, at most 512 px on the long side
    query: Query

    @property
    def hashes(self) -> list[str]:
        """Every hash the item is searched with; the first is its own PDQ hash."""
        return self.query.hashes


def decode(data: bytes) -> Decoded:
    try:
        with warnings.catch_warnings():  # the pixel limit is checked below, with a clear message
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError as exc:
        raise BadImage(f"a decompression bomb: {exc}") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise BadImage(ERR_NOT_IMAGE) from exc
    width, height = image.size
    if width * height > settings.AUDIT_MAX_IMAGE_PIXELS:
        raise BadImage(ERR_BOMB.format(w=width, h=height, limit=settings.AUDIT_MAX_IMAGE_PIXELS))
    try:
        normalised = normalise_for_pdq(image)
        normalised.load()
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError) as exc:
        raise BadImage(ERR_DAMAGED.format(error=str(exc)[:200])) from exc
    return Decoded(normalised=normalised, query=query(normalised))
