import io

import pytest
from PIL import Image

from conftest import make_image, upload_file
from works.fingerprints import pdq_distance
from works.models import Registration, Work

pytestmark = pytest.mark.django_db


def _post(client, data, name="art.jpg", title="Harbour at dusk", **extra):
    return client.post(
        "/works/new", {"file": upload_file(data, name), "title": title, "tags": "ink, Ink, sea", **extra}
    )


def _stored_files(settings):
    return [
        p
        for root in (settings.MEDIA_ROOT, settings.PRIVATE_MEDIA_ROOT)
        if root.exists()
        for p in root.rglob("*")
        if p.is_file()
    ]


def test_a_creator_uploads_a_work_awaiting_signature(client, creator, settings):
    client.force_login(creator.user)
    data = make_image(seed=3)
    response = _post(client, data)

    work = Work.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/works/{work.pk}/"
    assert work.creator_address == creator.address
    assert work.tags == ["ink", "sea"]
    assert work.registration.status == Registration.Status.AWAITING_SIGNATURE
    import hashlib

    assert work.sha256 == hashlib.sha256(data).hexdigest()
    assert len(work.pdq) == 64 and 0 <= work.pdq_quality <= 100
    assert "art" not in work.original.name and "art" not in work.preview.name  # random names
    assert not work.original.path.startswith(str(settings.MEDIA_ROOT))  # private


def test_the_public_preview_has_no_gps_and_is_upright(client, creator):
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPS IFD
    client.force_login(creator.user)
    _post(client, make_image(size=(640, 480), exif=exif))

    work = Work.objects.get()
    with Image.open(work.preview.path) as preview:
        assert preview.size == (480, 640)
        assert 0x8825 not in preview.getexif()
        assert not preview.getexif()


@pytest.mark.parametrize(
    "data,name,message",
    [
        (make_image(fmt="PNG"), "art.jpg", "it is a PNG image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "art.svg", "not a JPEG, PNG or WebP"),
        (make_image()[:5000], "art.jpg", "truncated"),
        (make_image() + b"PK\x03\x04zip", "art.jpg", "unexpected bytes after the end"),
    ],
)
def test_bad_files_get_a_400_form_error_and_leave_nothing(client, creator, settings, data, name, message):
    client.force_login(creator.user)
    response = _post(client, data, name)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Work.objects.count() == 0
    assert _stored_files(settings) == []


def test_too_many_files_are_refused(client, creator, settings):
    client.force_login(creator.user)
    response = client.post(
        "/works/new",
        {"file": [upload_file(make_image(seed=1)), upload_file(make_image(seed=2))], "title": "Two"},
    )
    assert response.status_code == 400
    assert "Upload one file at a time." in response.content.decode()
    assert _stored_files(settings) == []


def test_upload_requires_sign_in(client):
    assert client.get("/works/new").status_code == 302


def test_another_creators_near_duplicate_is_held_with_evidence(client, creator, outsider):
    client.force_login(creator.user)
    original = make_image(seed=7, quality=95)
    _post(client, original, title="Original")
    client.force_login(outsider.user)
    # the same picture recompressed: a different file, a near-identical PDQ hash
    buffer = io.BytesIO()
    Image.open(io.BytesIO(original)).save(buffer, format="JPEG", quality=60)
    _post(client, buffer.getvalue(), title="Copy")

    first, copy = Work.objects.order_by("pk")
    assert first.sha256 != copy.sha256
    distance = pdq_distance(first.pdq, copy.pdq)
    assert distance <= 31
    evidence = copy.registration.hold_evidence
    assert [m["work_id"] for m in evidence] == [first.pk]
    assert evidence[0]["distance"] == distance
    assert "another creator" in copy.registration.hold_reason
    assert copy.version_of is None


def test_a_creators_own_match_is_linked_as_a_version(client, creator):
    client.force_login(creator.user)
    _post(client, make_image(seed=9), title="v1")
    _post(client, make_image(seed=9, quality=70), title="v2")
    first, second = Work.objects.order_by("pk")
    assert second.version_of == first
    assert second.registration.hold_evidence == []


def test_an_unrelated_image_is_not_a_match(client, creator, outsider):
    client.force_login(creator.user)
    _post(client, make_image(seed=1))
    client.force_login(outsider.user)
    _post(client, make_image(seed=2))
    assert Work.objects.order_by("pk").last().registration.hold_evidence == []


def test_originals_are_only_served_to_their_creator(client, creator, outsider):
    client.force_login(creator.user)
    data = make_image(seed=4)
    _post(client, data)
    work = Work.objects.get()
    response = client.get(f"/works/{work.pk}/original")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    client.force_login(outsider.user)
    assert client.get(f"/works/{work.pk}/original").status_code == 404
    client.logout()
    assert client.get(f"/works/{work.pk}/original").status_code == 302
