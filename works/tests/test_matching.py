"""The one matcher (works.matching) on real photographs (tests/fixtures/photos.py: Debian's
wallpaper packages and scikit-image's pictures): copies are found after the edits pictures go
through when they travel (crops from a side or to the centre, caption bars, screenshots, blurred
padding, text, mirroring, recompression, colour); look-alikes (another frame of the scene, the other
end of a panorama, pictures of the same collection) are never taken for copies. Then the
registration hold and the verify page, with the matcher, on real photographs."""

import io
from collections import defaultdict

import pytest
from PIL import Image, ImageFilter, ImageOps

from tests.fixtures.photos import EDITS, PhotosMissing, edited, edited_bytes, encode, photo_set
from tests.fixtures.services import require_service
from works import matching
from works.fingerprint_index import FingerprintIndex
from works.fingerprints import normalise_for_pdq
from works.models import Registration


@pytest.fixture(scope="module")
def photos():
    try:
        return photo_set()
    except PhotosMissing as exc:
        require_service(False, str(exc))


class Registry:
    """Every original registered in a real FingerprintIndex, with its keypoint features."""

    def __init__(self, originals):
        self.index = FingerprintIndex()
        self.features = {}
        for n, (_, image) in enumerate(originals):
            prints = matching.prints(_decoded(encode(image, "JPEG", 92)))
            self.index.add([n], [prints.pdq], [prints.pdq_crop], [prints.windows])
            self.features[n] = matching.features(normalise_for_pdq(_decoded(encode(image, "JPEG", 92))))

    def find(self, data: bytes) -> dict[int, matching.Match]:
        query = matching.query(normalise_for_pdq(_decoded(data)))
        return {m.work_id: m for m in matching.find([query], index=self.index, features=self.features)[0]}


def _decoded(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


@pytest.fixture(scope="module")
def registry(photos):
    return Registry(photos.originals)


def test_copies_of_real_photographs_are_found_after_every_edit(photos, registry):
    found = defaultdict(list)
    for n in range(0, len(photos.originals), 5):
        _, image = photos.originals[n]
        for e, edit in enumerate(EDITS):
            matches = registry.find(edited_bytes(image, edit, seed=n * 100 + e))
            found[edit].append(n in matches and matches[n].verdict == matching.COPY)
            wrong = [w for w, m in matches.items() if w != n and m.verdict == matching.COPY]
            assert not wrong, f"{photos.originals[n][0]} {edit}: taken for {wrong}"
    recall = {edit: sum(hits) / len(hits) for edit, hits in found.items()}
    overall = sum(sum(hits) for hits in found.values()) / sum(len(hits) for hits in found.values())
    assert overall >= 0.9, recall
    assert min(recall.values()) >= 0.75, recall
    # the edits the PDQ hash alone missed (crops, caption bars, borders, padding) are found
    for edit in ("crop_10_side", "crop_centre_80", "caption_bar", "screenshot_border", "padded_blur"):
        assert recall[edit] >= 0.8, (edit, recall)


def test_look_alikes_are_never_taken_for_copies(photos, registry):
    categories = {category for category, _, _ in photos.lookalikes}
    assert categories == {"frames", "siblings", "collection"}
    for category, name, image in photos.lookalikes:
        for edit in ("webp", "crop_10_side", "caption_bar"):
            matches = registry.find(edited_bytes(image, edit, seed=3))
            copies = [photos.originals[w][0] for w, m in matches.items() if m.verdict == matching.COPY]
            assert not copies, f"{category} {name} ({edit}) taken for a copy of {copies}"


def test_another_frame_of_the_scene_is_similar_not_a_copy(photos, registry):
    names = [name for name, _ in photos.originals]
    left = names.index("skimage/motorcycle_left.png")
    (right,) = [image for _, name, image in photos.lookalikes if name == "skimage/motorcycle_right.png"]
    match = registry.find(encode(right, "JPEG", 90))[left]
    assert match.verdict == matching.SIMILAR
    # while the frame itself, recompressed, is a copy
    assert registry.find(encode(photos.originals[left][1], "JPEG", 60))[left].verdict == matching.COPY


def test_borders_are_trimmed_whether_uniform_or_a_blurred_copy(photos):
    _, image = photos.originals[1]
    picture = normalise_for_pdq(image)
    framed = ImageOps.expand(picture, border=40, fill=(250, 250, 250))
    trimmed = matching.trim_borders(framed)
    assert trimmed is not None and abs(trimmed.size[0] - picture.size[0]) <= 4
    assert abs(trimmed.size[1] - picture.size[1]) <= 4

    w, h = picture.size
    back = picture.resize((w, w)).filter(ImageFilter.GaussianBlur(20))
    back.paste(picture, (0, (w - h) // 2))
    trimmed = matching.trim_borders(back)
    assert trimmed is not None and abs(trimmed.size[1] - h) <= 0.05 * h

    assert matching.trim_borders(picture) is None  # a photograph edge to edge keeps its edges


def test_a_window_without_detail_is_not_indexed():
    flat = Image.new("RGB", (400, 300), (90, 120, 150))
    assert set(matching.work_windows(flat)) == {""}
    assert matching.query(flat).windows == []


# ------------------------------------------------------------------ registration and verify


@pytest.mark.django_db
@pytest.mark.anvil
def test_a_captioned_copy_of_a_real_photo_is_held_and_a_look_alike_is_not(
    register, client, photos, creator, outsider
):
    names = [name for name, _ in photos.originals]
    photo = photos.originals[names.index("skimage/chelsea.png")][1]
    first = register(creator, seed=0, title="Chelsea", image=encode(photo, "JPEG", 92))
    copy = edited(photo, "caption_bar", seed=1)
    held = register(outsider, seed=0, title="Cat meme", image=encode(copy, "JPEG", 85))
    assert held.registration.status == Registration.Status.HELD
    assert [(m["work_id"], m["verdict"]) for m in held.registration.hold_evidence] == [(first.pk, "copy")]

    motorcycle = photos.originals[names.index("skimage/motorcycle_left.png")][1]
    register(creator, seed=0, title="Left frame", image=encode(motorcycle, "JPEG", 92))
    (right,) = [image for _, name, image in photos.lookalikes if name == "skimage/motorcycle_right.png"]
    other = register(outsider, seed=0, title="Right frame", image=encode(right, "JPEG", 92))
    assert other.registration.status == Registration.Status.PENDING
    assert other.registration.hold_evidence == []

    from tests.fixtures.images import upload_file

    page = client.post("/verify", {"file": upload_file(encode(right, "JPEG", 80), "frame.jpg")})
    text = page.content.decode()
    assert page.status_code == 200 and "Left frame" in text and "similar, not a copy" in text
