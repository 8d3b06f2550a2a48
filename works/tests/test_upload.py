import io

import pytest
from PIL import Image

from tests.fixtures.images import make_image, upload_file
from works.fingerprints import pdq_distance
from works.forms import ERR_ONE_FILE
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
    assert ERR_ONE_FILE in response.content.decode()
    assert _stored_files(settings) == []


def test_upload_requires_sign_in(client):
    assert client.get("/works/new").status_code == 302


def _recompressed(data, quality=60):
    buffer = io.BytesIO()
    Image.open(io.BytesIO(data)).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


@pytest.mark.anvil
def test_another_creators_near_duplicate_is_held_with_evidence_when_signed(
    register, client, creator, outsider
):
    original = make_image(seed=7, quality=95)
    first = register(creator, seed=7, title="Original", image=original)
    # the same picture recompressed: a different file, a near-identical PDQ hash
    copy = register(outsider, seed=0, title="Copy", image=_recompressed(original))

    assert first.sha256 != copy.sha256
    distance = pdq_distance(first.pdq, copy.pdq)
    assert distance <= 31
    assert copy.registration.status == Registration.Status.HELD
    evidence = copy.registration.hold_evidence
    assert [m["work_id"] for m in evidence] == [first.pk]
    assert evidence[0]["distance"] == distance
    assert "another creator" in copy.registration.hold_reason
    assert copy.version_of is None


@pytest.mark.anvil
def test_an_unsigned_draft_never_holds_a_signed_registration(register, draft, creator, outsider, client):
    original = make_image(seed=8, quality=95)
    draft(seed=8, persona=creator, title="Secret draft")
    signed = register(outsider, seed=0, title="Signed", image=_recompressed(original))

    assert signed.registration.status == Registration.Status.PENDING
    assert signed.registration.hold_evidence == []
    page = client.get(f"/works/{signed.pk}/").content.decode()
    assert "Secret draft" not in page


@pytest.mark.anvil
def test_a_draft_signed_after_another_creators_registration_is_held(register, draft, creator, outsider):
    """Holds are decided at signing, against the works public at that moment."""
    from core.chain.eip712 import typed_data_sign
    from works import services

    early_draft = draft(seed=12, persona=outsider, title="Late signer")
    first = register(creator, seed=12, title="First signed")
    typed = services.registration_typed_data(registration=early_draft.registration)
    registration = services.registration_sign(
        registration=early_draft.registration, signature=typed_data_sign(typed, outsider.account)
    )
    assert registration.status == Registration.Status.HELD
    assert [m["work_id"] for m in registration.hold_evidence] == [first.pk]


@pytest.mark.anvil
def test_a_creators_own_match_is_linked_as_a_version_and_they_are_told(register, client, creator):
    first = register(creator, seed=9, title="v1")
    client.force_login(creator.user)
    response = _post(client, make_image(seed=9, quality=70), title="v2")
    second = Work.objects.order_by("pk").last()
    assert second.version_of == first
    assert second.registration.hold_evidence == []
    page = client.get(response["Location"]).content.decode()
    assert "edited version of your “v1”" in page


def test_uploading_a_file_already_registered_opens_the_existing_work(register, client, creator, settings):
    data = make_image(seed=12)
    first = register(creator, seed=12, title="Original")
    client.force_login(creator.user)
    again = _post(client, data, title="Same file again")
    assert again.status_code == 409
    html = again.content.decode()
    assert "You already uploaded this exact file as “Original”" in html
    assert f'href="{first.get_absolute_url()}"' in html
    assert Work.objects.filter(owner=creator.user).count() == 1  # no silent copy
    draft = _post(client, make_image(seed=13), title="A draft")
    assert draft.status_code == 302
    twice = _post(client, make_image(seed=13), title="The draft again").content.decode()
    assert "“A draft” (awaiting your signature)" in twice
    assert "sign its registration there" in twice


def test_an_unrelated_image_is_not_a_match(client, creator, outsider):
    client.force_login(creator.user)
    _post(client, make_image(seed=1))
    client.force_login(outsider.user)
    _post(client, make_image(seed=2))
    assert Work.objects.order_by("pk").last().registration.hold_evidence == []


def test_a_16_bit_png_preview_keeps_its_tones(client, creator):
    import numpy as np
    from PIL import ImageStat

    gradient = np.linspace(0, 65535, 320 * 240).reshape(240, 320).astype(np.uint16)
    buffer = io.BytesIO()
    Image.fromarray(gradient).save(buffer, format="PNG")
    client.force_login(creator.user)
    assert _post(client, buffer.getvalue(), name="deep.png").status_code == 302
    work = Work.objects.get()
    with Image.open(work.preview.path) as preview:
        mean = ImageStat.Stat(preview.convert("L")).mean[0]
    assert 100 < mean < 155  # a mid-grey gradient, not pure white


def test_a_semi_transparent_png_keeps_its_alpha_in_the_preview(client, creator):
    picture = Image.new("RGBA", (300, 200), (200, 30, 30, 0))
    picture.paste((200, 30, 30, 128), (50, 50, 250, 150))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    client.force_login(creator.user)
    assert _post(client, buffer.getvalue(), name="glass.png").status_code == 302
    work = Work.objects.get()
    assert work.preview.name.endswith(".webp") and work.thumbnail.name.endswith(".webp")
    with Image.open(work.preview.path) as preview:
        assert preview.mode == "RGBA"
        assert preview.getpixel((5, 5))[3] == 0  # transparent stays transparent
        assert 100 <= preview.getpixel((150, 100))[3] <= 156  # half-transparent stays half
    assert client.get(work.preview.url)["Content-Type"] == "image/webp"


def test_the_size_limit_is_stated_in_the_units_it_is_set_in(client, creator, settings):
    from works.validation import ERR_TOO_LARGE

    settings.WORKS_MAX_UPLOAD_BYTES = 50 * 1024 * 1024
    client.force_login(creator.user)
    big = make_image(seed=1) + b"\x00" * (50 * 1024 * 1024 + 1)
    response = _post(client, big)
    assert response.status_code == 400
    assert ERR_TOO_LARGE.format(size="50.0 MiB", limit="50 MiB") in response.content.decode()


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
