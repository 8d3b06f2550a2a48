"""One matcher for the registration hold, the verify page and the dataset audit: is this
picture a copy of a registered work, after the edits pictures go through when they travel?

Both sides start from the one normalisation (`works.fingerprints.normalise_for_pdq`, 512 px).

1. Candidates by PDQ over windows. A registered work is indexed under several windows of
   itself (WORK_WINDOWS: the whole picture and its centre with 4 % cut off, at 512 px, as before;
   then, hashed at WINDOW_SIZE px, the picture with 12 % or 24 % cut from one side and its centre
   at 88 % and 76 %), so a copy cropped from a side or to its centre is near one of them. A query
   is hashed as itself under the 8 dihedral transforms (mirrored, rotated), with its borders
   trimmed (uniform, or padding without detail such as a blurred copy: a screenshot, a frame, a
   letterbox), and with 10 % or 20 % cut from a side and its centre at 80 % (a caption bar, text,
   padding that is neither). A window with too little detail (PDQ quality under MIN_QUALITY) is
   not hashed: smooth regions hash alike whatever picture they come from. Any pair within
   WORKS_CANDIDATE_RADIUS bits makes the work a candidate.
2. Evidence. A candidate whose whole picture (or centre) is within WORKS_PDQ_THRESHOLD of the
   query's whole picture (dihedral or trimmed) is a copy. Otherwise ORB keypoints of the two
   (equalised greyscale at 512 px) are matched with a ratio test and fitted with RANSAC to one
   similarity transform; it is a copy when at least WORKS_VERIFY_INLIERS keypoints agree, the two
   share at least MIN_COVER of each other, the agreeing keypoints spread over the overlap, and the
   agreement is the whole overlap's: nearly every matched keypoint agrees (MIN_RATIO), or the two
   pictures' details correlate once aligned (MIN_CORRELATION). Another frame of the same scene or
   the other end of a panorama fails this and is "similar", not a copy: shown as such, never
   holding a registration or counted as found.

bench/audit.py's quality section measures it on real photographs (tests/fixtures/photos.py).
"""

from collections import OrderedDict
from dataclasses import dataclass, field

import cv2
import numpy as np
import pdqhash
from django.conf import settings
from PIL import Image, ImageOps

from works.fingerprint_index import SLOTS, FingerprintIndex
from works.fingerprints import centre_crop, normalise_for_pdq, pdq_bits_to_hex, pdq_distance, shrink
from works.models import Work

# Windows of a registered work, as (left, top, right, bottom) fractions cut off. Slot 0 is the
# whole picture and slot 1 the centre crop (Work.pdq and Work.pdq_crop); the rest are
# Work.pdq_windows, in this order. Changing the list means re-running `fingerprints_backfill`.
WORK_WINDOWS = (
    (0.0, 0.0, 0.0, 0.0),
    (0.04, 0.04, 0.04, 0.04),
    (0.12, 0, 0, 0),
    (0, 0.12, 0, 0),
    (0, 0, 0.12, 0),
    (0, 0, 0, 0.12),
    (0.24, 0, 0, 0),
    (0, 0.24, 0, 0),
    (0, 0, 0.24, 0),
    (0, 0, 0, 0.24),
    (0.06, 0.06, 0.06, 0.06),
    (0.12, 0.12, 0.12, 0.12),
)
if len(WORK_WINDOWS) > SLOTS:
    raise ImportError(f"works.matching: {len(WORK_WINDOWS)} windows, the index holds {SLOTS} per work")
QUERY_WINDOWS = (
    (0.1, 0, 0, 0),
    (0, 0.1, 0, 0),
    (0, 0, 0.1, 0),
    (0, 0, 0, 0.1),
    (0, 0, 0, 0.2),
    (0, 0.2, 0, 0),
    (0.1, 0.1, 0.1, 0.1),
)
# and of a trimmed query (a title bar or caption left inside the border)
TRIMMED_WINDOWS = ((0, 0.08, 0, 0), (0, 0, 0, 0.1))
WINDOW_SIZE = 256
ORB_FEATURES = 600  # keypoints per picture: matching them costs the square of this
MIN_QUALITY = 30  # PDQ's own quality (0-100) under which a window's hash is not used
MIN_COVER = 0.5
MIN_SPREAD = 0.05
MIN_CORRELATION = 0.6
# With fewer agreeing keypoints than WORKS_VERIFY_INLIERS (a flat photograph, a tight crop), the
# details must correlate this well once aligned: copies that failed only on the keypoint count
# correlated 0.65-0.99, another frame of the same scene at most 0.49 (bench/audit.py's set)
FEW_INLIERS = 8
STRONG_CORRELATION = 0.65
MIN_RATIO = 0.8
TRIM_TOLERANCE = 12  # grey levels a border row or column may vary and still be "uniform"
LOW_DETAIL = 0.2  # a row or column with under this share of the picture's median detail is padding


def window(image: Image.Image, cut) -> Image.Image:
    width, height = image.size
    left, top, right, bottom = cut
    return image.crop(
        (
            round(width * left),
            round(height * top),
            width - round(width * right),
            height - round(height * bottom),
        )
    )


def _pdq(image: Image.Image) -> str:
    """The PDQ hash of a window, or "" if the window has too little detail to say anything (a
    flat or smooth region hashes alike whatever picture it comes from)."""
    bits, quality = pdqhash.compute(np.asarray(image))
    return pdq_bits_to_hex(bits) if quality >= MIN_QUALITY else ""


def small(normalised: Image.Image) -> Image.Image:
    """The picture at WINDOW_SIZE px on the long side: windows are hashed at this scale on both
    sides (PDQ reduces every picture to 64x64; a quarter of the pixels is a quarter of the cost)."""
    return shrink(normalised, WINDOW_SIZE)


def work_windows(normalised: Image.Image) -> list[str]:
    """PDQ hashes of WORK_WINDOWS[2:] (what Work.pdq_windows stores), "" for a window without
    enough detail."""
    reduced = small(normalised)
    return [_pdq(window(reduced, cut)) for cut in WORK_WINDOWS[2:]]


def windows_text(hashes: list[str]) -> str:
    return ",".join(hashes)


@dataclass
class Prints:
    """What registration stores of a picture, and what it searches the registry with."""

    pdq: str
    quality: int
    pdq_crop: str
    windows: list[str]
    query: "Query"


def prints(image: Image.Image) -> Prints:
    """One normalisation, then the work's hashes (whole, centre crop, windows) and its query."""
    normalised = normalise_for_pdq(image)
    normalised.load()
    found = query(normalised)
    crop_bits, _ = pdqhash.compute(np.asarray(centre_crop(normalised)))
    return Prints(
        pdq=found.whole[0],
        quality=found.quality,
        pdq_crop=pdq_bits_to_hex(crop_bits),
        windows=work_windows(normalised),
        query=found,
    )


def trim_borders(image: Image.Image) -> Image.Image | None:
    """The picture inside its borders: rows and columns from each edge that are uniform (a frame,
    a letterbox) or carry almost no detail (padding made of a blurred copy), peeled twice (a
    window inside a desktop). None if there is nothing to trim, or if trimming would leave under
    a third of either side."""
    trimmed = image
    for _ in range(2):
        box = _inner_box(np.asarray(trimmed.convert("L"), dtype=np.float32))
        if box is None:
            break
        trimmed = trimmed.crop(box)
    if trimmed is image:
        return None
    if trimmed.size[0] < image.size[0] / 3 or trimmed.size[1] < image.size[1] / 3:
        return None
    return trimmed


def _inner_box(grey: np.ndarray):
    height, width = grey.shape
    if height < 32 or width < 32:
        return None
    blurred = cv2.GaussianBlur(grey, (0, 0), 1.0, borderType=cv2.BORDER_REPLICATE)
    detail = np.abs(cv2.Laplacian(blurred, cv2.CV_32F, borderType=cv2.BORDER_REPLICATE))

    def edges(lines, energy):
        middle = np.median(energy[len(energy) // 4 : len(energy) * 3 // 4])
        quiet = energy < max(middle * LOW_DETAIL, 0.05)
        flat = (lines.max(axis=1) - lines.min(axis=1)) <= TRIM_TOLERANCE
        border = quiet | flat

        def run(mask):
            mask = mask.copy()
            mask[:2] = mask[2]  # the outermost lines carry the filters' edge effects
            count = int(np.argmin(mask)) if not mask.all() else len(mask)
            return count if count >= len(mask) * 0.015 else 0

        return run(border), run(border[::-1])

    top, bottom = edges(grey, detail.mean(axis=1))
    left, right = edges(grey.T, detail.mean(axis=0))
    if top + bottom >= height - 16 or left + right >= width - 16 or not (top or bottom or left or right):
        return None
    return (left, top, width - right, height - bottom)


@dataclass
class Query:
    """What a picture is searched with."""

    normalised: Image.Image
    whole: list[str]  # the 8 dihedral hashes, then the trimmed picture's if it had borders
    windows: list[str]  # QUERY_WINDOWS, and the trimmed picture's TRIMMED_WINDOWS
    quality: int
    _features: dict = field(default_factory=dict, repr=False)

    @property
    def hashes(self) -> list[str]:
        return self.whole + self.windows

    def features(self, *, mirrored: bool = False) -> "Features":
        """Keypoints of the picture (or of its mirror image), computed once per query."""
        if mirrored not in self._features:
            image = ImageOps.mirror(self.normalised) if mirrored else self.normalised
            self._features[mirrored] = features(image)
        return self._features[mirrored]


def query(normalised: Image.Image) -> Query:
    """The hashes a normalised picture is searched with (`whole[0]` is its own PDQ hash)."""
    dihedral, quality = pdqhash.compute_dihedral(np.asarray(normalised))
    whole = [pdq_bits_to_hex(h) for h in dihedral]
    reduced = small(normalised)
    trimmed = trim_borders(reduced)
    windows = [_pdq(window(reduced, cut)) for cut in QUERY_WINDOWS]
    if trimmed is not None:
        whole.append(_pdq(trimmed))
        windows += [_pdq(window(trimmed, cut)) for cut in TRIMMED_WINDOWS]
    whole, windows = whole[:8] + [h for h in whole[8:] if h], [h for h in windows if h]
    return Query(normalised=normalised, whole=whole, windows=windows, quality=int(quality))


# ------------------------------------------------------------------ keypoint evidence

_ORB = None
_MATCHER = None


def _orb():
    global _ORB, _MATCHER
    if _ORB is None:
        _ORB = cv2.ORB_create(nfeatures=ORB_FEATURES, fastThreshold=10)
        _MATCHER = cv2.BFMatcher(cv2.NORM_HAMMING)
    return _ORB, _MATCHER


@dataclass
class Features:
    points: np.ndarray
    descriptors: np.ndarray | None
    size: tuple[int, int]
    grey: np.ndarray  # equalised, float32


def features(normalised: Image.Image) -> Features:
    grey = cv2.equalizeHist(np.asarray(normalised.convert("L")))
    keypoints, descriptors = _orb()[0].detectAndCompute(grey, None)
    points = np.float32([k.pt for k in keypoints]) if keypoints else np.zeros((0, 2), np.float32)
    return Features(
        points=points, descriptors=descriptors, size=normalised.size, grey=grey.astype(np.float32)
    )


@dataclass
class Evidence:
    inliers: int = 0
    cover: float = 0.0  # share of the work the query covers, mapped through the fitted transform
    cover_query: float = 0.0  # share of the query that lies on the work
    spread: float = 0.0  # share of that overlap the agreeing keypoints span
    ratio: float = 0.0  # agreeing keypoints / keypoints matched
    correlation: float = 0.0  # of the two pictures' details, aligned, over the overlap


def _evidence(query: Features, work: Features) -> Evidence:
    if query.descriptors is None or work.descriptors is None or len(query.points) < 8 or len(work.points) < 8:
        return Evidence()
    pairs = _orb()[1].knnMatch(query.descriptors, work.descriptors, k=2)
    good = [m for m, n in (p for p in pairs if len(p) == 2) if m.distance < 0.8 * n.distance]
    if len(good) < 8:
        return Evidence()
    src = query.points[[m.queryIdx for m in good]]
    dst = work.points[[m.trainIdx for m in good]]
    transform, mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=4.0)
    if transform is None or mask is None:
        return Evidence()
    scale = float(np.hypot(transform[0, 0], transform[1, 0]))
    if not 0.5 < scale < 2.0:
        return Evidence()
    kept = dst[mask.ravel() == 1]
    if len(kept) < 3:
        return Evidence()
    ww, wh = work.size
    qw, qh = query.size
    corners = np.float32([[0, 0], [qw, 0], [qw, qh], [0, qh]]).reshape(-1, 1, 2)
    mapped = cv2.transform(corners, transform).reshape(-1, 2)
    frame = np.float32([[0, 0], [ww, 0], [ww, wh], [0, wh]])
    area, _ = cv2.intersectConvexConvex(mapped, frame)
    area = float(area)
    if area <= 0:
        return Evidence()
    found = Evidence(
        inliers=int(mask.sum()),
        cover=area / (ww * wh),
        cover_query=area / (qw * qh * scale * scale),
        spread=float(np.ptp(kept[:, 0]) * np.ptp(kept[:, 1])) / area,
        ratio=float(mask.sum()) / len(good),
    )
    few = found.inliers < settings.WORKS_VERIFY_INLIERS
    if (found.ratio < MIN_RATIO or few) and min(found.cover, found.cover_query) >= MIN_COVER:
        # only then does the decision need it (the costliest part)
        found.correlation = _correlation(query.grey, work.grey, transform)
    return found


def _correlation(query_grey, work_grey, transform) -> float:
    """Pearson correlation of the two pictures' band-passed details over their overlap, with the
    query warped onto the work: a copy agrees everywhere, another frame of the scene does not."""
    height, width = work_grey.shape
    warped = cv2.warpAffine(query_grey, transform, (width, height), flags=cv2.INTER_LINEAR, borderValue=-1)
    inside = cv2.warpAffine(
        np.ones_like(query_grey), transform, (width, height), flags=cv2.INTER_NEAREST, borderValue=0
    ).astype(bool)
    inside = cv2.erode(inside.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    if inside.sum() < 1000:
        return 0.0

    def detail(image):
        low = cv2.GaussianBlur(image, (0, 0), 1.5)
        return low - cv2.GaussianBlur(image, (0, 0), 6)

    a, b = detail(warped)[inside], detail(work_grey)[inside]
    a, b = a - a.mean(), b - b.mean()
    denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum()) / denominator if denominator else 0.0


def evidence(query: Query, work: Features, *, inliers: int) -> Evidence:
    """The keypoint evidence that the query is the work: as is, or else mirrored (the best of
    the two when neither is a copy)."""
    best = _evidence(query.features(), work)
    if is_copy(best, inliers=inliers):
        return best
    mirrored = _evidence(query.features(mirrored=True), work)
    if is_copy(mirrored, inliers=inliers) or (mirrored.inliers, mirrored.cover) > (best.inliers, best.cover):
        return mirrored
    return best


def is_copy(found: Evidence, *, inliers: int) -> bool:
    """The two share most of each other, and either enough keypoints agree, spread over the
    overlap, and the agreement is the whole overlap's (its details correlate once aligned, or
    nearly every keypoint matched agrees), or a few keypoints agree and the details, aligned by
    them, correlate strongly."""
    if found.cover < MIN_COVER or found.cover_query < MIN_COVER:
        return False
    if found.inliers >= FEW_INLIERS and found.correlation >= STRONG_CORRELATION:
        return True
    return (
        found.inliers >= inliers
        and found.spread >= MIN_SPREAD
        and (found.correlation >= MIN_CORRELATION or found.ratio >= MIN_RATIO)
    )


class WorkFeatures:
    """ORB features of registered works' previews, computed on demand and kept (LRU): an audit
    worker keeps one for all its parts."""

    def __init__(self, size: int = 256):
        self.size = size
        self.cache: OrderedDict[int, Features | None] = OrderedDict()

    def get(self, work_id: int) -> Features | None:
        if work_id in self.cache:
            self.cache.move_to_end(work_id)
            return self.cache[work_id]
        work = Work.objects.filter(pk=work_id).only("preview").first()
        normalised = _preview(work) if work is not None else None
        result = features(normalised) if normalised is not None else None
        self.cache[work_id] = result
        if len(self.cache) > self.size:
            self.cache.popitem(last=False)
        return result


def _preview(work: Work) -> Image.Image | None:
    """The work's public preview, normalised as every picture is; None if it cannot be read."""
    if not work.preview:
        return None
    try:
        with work.preview.open("rb") as handle, Image.open(handle) as image:
            normalised = normalise_for_pdq(image)
            normalised.load()
    except OSError:
        return None
    return normalised


def work_query(work: Work) -> Query | None:
    """The query of a registered work, from its preview (registration's check at signing time)."""
    normalised = _preview(work)
    return query(normalised) if normalised is not None else None


COPY, SIMILAR = "copy", "similar"


@dataclass
class Match:
    work_id: int
    distance: int  # the nearest pair of hashes, in bits
    verdict: str  # COPY or SIMILAR
    inliers: int | None = None  # agreeing keypoints, when the keypoint check was needed


def find(
    queries: list[Query],
    *,
    index: FingerprintIndex,
    features: WorkFeatures,
    allowed: set[int] | None = None,
) -> list[list[Match]]:
    """For each query, the registered works it is a copy of, or similar to (nearest first).

    Candidates are works with any window within WORKS_CANDIDATE_RADIUS of any of the query's
    hashes (one batched search). A candidate is a copy when the query's whole picture is within
    WORKS_PDQ_THRESHOLD of the work's whole picture or centre, or else when the keypoint evidence
    says so (`is_copy`); otherwise it is similar."""
    threshold = settings.WORKS_PDQ_THRESHOLD
    radius = settings.WORKS_CANDIDATE_RADIUS
    hits = index.search_slots([h for q in queries for h in q.hashes], radius=radius)
    answers = []
    for q in queries:
        whole = set(q.whole)
        nearest: dict[int, int] = {}
        direct: dict[int, int] = {}
        for h in q.hashes:
            for work_id, slot, distance in hits.get(h, ()):
                if allowed is not None and work_id not in allowed:
                    continue
                if distance < nearest.get(work_id, 999):
                    nearest[work_id] = distance
                if h in whole and slot < 2 and distance < direct.get(work_id, 999):
                    direct[work_id] = distance
        found = []
        for work_id, distance in sorted(nearest.items(), key=lambda m: (m[1], m[0])):
            if direct.get(work_id, 999) <= threshold:
                found.append(Match(work_id=work_id, distance=direct[work_id], verdict=COPY))
                continue
            work_features = features.get(work_id)
            needed = settings.WORKS_VERIFY_INLIERS
            proof = evidence(q, work_features, inliers=needed) if work_features is not None else Evidence()
            verdict = COPY if is_copy(proof, inliers=needed) else SIMILAR
            found.append(Match(work_id=work_id, distance=distance, verdict=verdict, inliers=proof.inliers))
        answers.append(found)
    return answers


def distance_to(q: Query, pdq: str) -> int:
    """The nearest of the query's whole hashes to a work's PDQ hash."""
    return min(pdq_distance(h, pdq) for h in q.whole)
