"""Near-duplicate matching of dataset images.

1. Decode safely (formats whitelist, pixel limit before decoding: a decompression bomb is a bad
   item, not a crash), then the registration's normalisation (`works.fingerprints`).
2. Candidates: the 8 dihedral PDQ hashes of the image (so mirrored and rotated copies are near)
   searched in the fingerprint index, which holds each work's hash and the hash of its centre
   (so copies cropped by a few percent are near), within AUDIT_CANDIDATE_RADIUS bits.
3. A candidate within WORKS_PDQ_THRESHOLD is a match. Further out (heavier crops, captions burnt
   in, strong brightness changes) it must pass a second, independent check: ORB keypoints of the
   two images (histogram-equalised greyscale at the same 512 px scale) matched with a ratio test
   and fitted with RANSAC to one similarity transform of plausible scale; at least
   AUDIT_VERIFY_INLIERS keypoints must agree. bench/audit.py measures recall per kind of edit and
   precision on unrelated images.
"""

import io
import warnings
from collections import OrderedDict
from dataclasses import dataclass

import cv2
import numpy as np
from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

from works.fingerprints import normalise_for_pdq, pdq_dihedral
from works.models import Work

FORMATS = ["JPEG", "PNG", "WEBP"]
ERR_NOT_IMAGE = "not a JPEG, PNG or WebP image"
ERR_BOMB = "{w}×{h} pixels is over the {limit:,}-pixel limit (a decompression bomb?)"
ERR_DAMAGED = "damaged image: {error}"


class BadImage(Exception):
    pass


@dataclass
class Decoded:
    normalised: Image.Image  # RGB, at most 512 px on the long side
    hashes: list[str]  # the 8 dihedral PDQ hashes, the first one as is
    quality: int


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
    hashes, quality = pdq_dihedral(normalised)
    return Decoded(normalised=normalised, hashes=hashes, quality=quality)


# ------------------------------------------------------------------ second check

_ORB = None
_MATCHER = None


def _orb():
    global _ORB, _MATCHER
    if _ORB is None:
        _ORB = cv2.ORB_create(nfeatures=1500, fastThreshold=10)
        _MATCHER = cv2.BFMatcher(cv2.NORM_HAMMING)
    return _ORB, _MATCHER


def features(normalised: Image.Image):
    grey = cv2.equalizeHist(np.asarray(normalised.convert("L")))
    keypoints, descriptors = _orb()[0].detectAndCompute(grey, None)
    return np.float32([k.pt for k in keypoints]) if keypoints else np.zeros((0, 2), np.float32), descriptors


def _inliers(a, b) -> int:
    points_a, desc_a = a
    points_b, desc_b = b
    if desc_a is None or desc_b is None or len(points_a) < 8 or len(points_b) < 8:
        return 0
    pairs = _orb()[1].knnMatch(desc_a, desc_b, k=2)
    good = [m for m, n in (p for p in pairs if len(p) == 2) if m.distance < 0.8 * n.distance]
    if len(good) < 8:
        return 0
    src = points_a[[m.queryIdx for m in good]]
    dst = points_b[[m.trainIdx for m in good]]
    transform, mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=4.0)
    if transform is None or mask is None:
        return 0
    scale = float(np.hypot(transform[0, 0], transform[1, 0]))
    kept = src[mask.ravel() == 1]
    # A collapsed fit (everything mapped to a corner) is not agreement.
    if not 0.7 < scale < 1.45 or len(kept) < 3 or np.ptp(kept[:, 0]) < 40 or np.ptp(kept[:, 1]) < 40:
        return 0
    return int(mask.sum())


def verify(item: Image.Image, work_features) -> int:
    """Keypoints of the dataset image (as is, and mirrored) that agree with the work's."""
    as_is = _inliers(features(item), work_features)
    return max(as_is, _inliers(features(ImageOps.mirror(item)), work_features))


class WorkFeatures:
    """ORB features of registered works' previews, computed on demand and kept (LRU)."""

    def __init__(self, size: int = 256):
        self.size = size
        self.cache: OrderedDict[int, tuple] = OrderedDict()

    def get(self, work_id: int):
        if work_id in self.cache:
            self.cache.move_to_end(work_id)
            return self.cache[work_id]

        work = Work.objects.filter(pk=work_id).only("preview").first()
        result = None
        if work is not None and work.preview:
            try:
                with work.preview.open("rb") as handle, Image.open(handle) as image:
                    result = features(normalise_for_pdq(image))
            except OSError:
                result = None
        self.cache[work_id] = result
        if len(self.cache) > self.size:
            self.cache.popitem(last=False)
        return result
