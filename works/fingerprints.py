"""Fingerprints of a work: sha256 of the original bytes and a PDQ perceptual hash.

PDQ is computed after one normalisation that the dataset audit must reuse exactly: decode at a
reduced scale with Pillow's `draft()` (JPEG), apply EXIF orientation, convert to RGB, and shrink
to at most 512 px on the long side. Hashes depend on that resize; both sides call `pdq_image`.
"""

import hashlib

import numpy as np
import pdqhash
from PIL import Image, ImageOps

PDQ_SIZE = 512
PDQ_BITS = 256


def sha256_of(fileobj, chunk_size: int = 1 << 20) -> str:
    fileobj.seek(0)
    digest = hashlib.sha256()
    for chunk in iter(lambda: fileobj.read(chunk_size), b""):
        digest.update(chunk)
    fileobj.seek(0)
    return digest.hexdigest()


def normalise_for_pdq(image: Image.Image) -> Image.Image:
    if image.format == "JPEG":
        image.draft("RGB", (PDQ_SIZE, PDQ_SIZE))
    image = ImageOps.exif_transpose(image)
    image = image.convert("RGB")
    image.thumbnail((PDQ_SIZE, PDQ_SIZE), Image.Resampling.BILINEAR)
    return image


def pdq_image(image: Image.Image) -> tuple[str, int]:
    """PDQ hash (64 hex digits) and quality (0-100) of an opened image."""
    bits, quality = pdqhash.compute(np.asarray(normalise_for_pdq(image)))
    return pdq_bits_to_hex(bits), int(quality)


def pdq_bits_to_hex(bits) -> str:
    packed = np.packbits(np.asarray(bits, dtype=np.uint8))
    return packed.tobytes().hex()


def pdq_hex_to_bytes(value: str) -> bytes:
    return bytes.fromhex(value)


def pdq_distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()
