"""The work page, the signing endpoints and the dashboard list."""

import pytest

from core.chain.eip712 import typed_data_sign
from tests.fixtures.images import make_image, upload_file
from works import services
from works.models import Registration

pytestmark = pytest.mark.anvil


@pytest.fixture
def draft(chain, creator):
    return services.work_upload(
        user=creator.user,
        creator_address=creator.address,
        file=upload_file(make_image(seed=80)),
        title="Dune",
    )


def test_the_owner_gets_the_typed_data_to_sign(client, creator, draft):
    client.force_login(creator.user)
    body = client.get(f"/works/{draft.pk}/typed-data").json()
    assert body["address"] == creator.address
    assert body["typedData"]["message"]["contentHash"] == "0x" + draft.sha256


def test_signing_through_the_endpoint_makes_the_registration_pending(client, creator, draft):
    client.force_login(creator.user)
    typed = client.get(f"/works/{draft.pk}/typed-data").json()["typedData"]
    response = client.post(
        f"/works/{draft.pk}/sign",
        data={"signature": typed_data_sign(typed, creator.account)},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json() == {"status": "pending", "label": "pending"}


@pytest.mark.parametrize("signature", ["0x", "0x" + "00" * 65, "nonsense"])
def test_a_garbage_signature_gets_a_400_with_a_message(client, creator, draft, signature):
    client.force_login(creator.user)
    response = client.post(
        f"/works/{draft.pk}/sign", data={"signature": signature}, content_type="application/json"
    )
    assert response.status_code == 400
    assert (
        response.json()["error"] == services.ERR_BAD_SIGNATURE
        or "not by your signed-in wallet" in response.json()["error"]
    )
    draft.registration.refresh_from_db()
    assert draft.registration.status == Registration.Status.AWAITING_SIGNATURE


def test_a_malformed_sign_request_gets_a_400(client, creator, draft):
    client.force_login(creator.user)
    response = client.post(f"/works/{draft.pk}/sign", data="{", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == 'Send JSON {"signature": "0x..."}.'


def test_another_user_cannot_see_or_sign_a_draft(client, outsider, draft):
    client.force_login(outsider.user)
    assert client.get(f"/works/{draft.pk}/").status_code == 404
    assert client.get(f"/works/{draft.pk}/typed-data").status_code == 404
    assert client.get(f"/works/{draft.pk}/status").status_code == 404
    assert client.post(f"/works/{draft.pk}/sign", data={}, content_type="application/json").status_code == 404


def test_the_work_page_shows_status_and_the_sign_button_to_its_owner(client, creator, draft):
    client.force_login(creator.user)
    page = client.get(f"/works/{draft.pk}/").content.decode()
    assert "awaiting your signature" in page and 'data-testid="sign-registration"' in page


def test_the_status_partial_polls_while_pending(client, creator, draft, chain):
    client.force_login(creator.user)
    typed = services.registration_typed_data(registration=draft.registration, w3=chain)
    services.registration_sign(
        registration=draft.registration, signature=typed_data_sign(typed, creator.account)
    )
    partial = client.get(f"/works/{draft.pk}/status", HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 3s"' in partial and ">pending<" in partial


def test_the_dashboard_lists_works_in_a_fixed_number_of_queries(
    client, creator, chain, django_assert_num_queries
):
    client.force_login(creator.user)
    client.get("/dashboard/")
    # session, user, wallet address, profile, works, licence counts, training sales, earnings
    # days, split sheets awaiting the user's acceptance, derivatives awaiting their approval,
    # datasets their works were found in, the bell's unread count
    with django_assert_num_queries(12):
        client.get("/dashboard/")
    for seed in range(3):
        services.work_upload(
            user=creator.user,
            creator_address=creator.address,
            file=upload_file(make_image(seed=90 + seed)),
            title=f"W{seed}",
        )
    with django_assert_num_queries(12):  # the same twelve, whatever the number of works
        page = client.get("/dashboard/").content.decode()
    assert page.count('class="badge badge-awaiting_signature"') == 3


def test_a_drafts_preview_is_its_owners_until_signed_and_originals_are_never_served(client, draft, creator):
    assert client.get(draft.preview.url).status_code == 404
    assert client.get(draft.thumbnail.url).status_code == 404
    client.force_login(creator.user)
    assert client.get(draft.preview.url).status_code == 200
    assert client.get(draft.thumbnail.url)["Cache-Control"].startswith("private")
    assert client.get(f"/media/{draft.original.name}").status_code == 404
    typed = services.registration_typed_data(registration=draft.registration)
    services.registration_sign(
        registration=draft.registration, signature=typed_data_sign(typed, creator.account)
    )
    client.logout()
    assert client.get(draft.preview.url).status_code == 200
    assert client.get(draft.thumbnail.url)["Cache-Control"].startswith("public")


def test_the_owner_declares_where_a_work_is_published(client, creator, outsider, draft):
    work = draft
    Registration.objects.filter(work=work).update(
        status=Registration.Status.PENDING, signature="0x" + "11" * 65
    )
    client.force_login(creator.user)
    response = client.post(
        f"/works/{work.pk}/publications", {"url": "https://www.artist.example/p/1/?utm_source=x"}
    )
    assert response.status_code == 302
    response = client.post(f"/works/{work.pk}/publications", {"url": "javascript:alert(1)"}, follow=True)
    assert "is not a web address" in response.content.decode()
    publication = work.publications.get()
    assert publication.key == "artist.example/p/1"
    client.force_login(outsider.user)
    assert client.post(f"/works/{work.pk}/publications", {"url": "https://spam.example/"}).status_code == 404
    assert client.post(f"/works/{work.pk}/publications/{publication.pk}/remove").status_code == 404
    page = client.get(f"/works/{work.pk}/").content.decode()
    assert (
        "artist.example/p/1" in page
        and "Remove" not in page.split('data-testid="publications"')[1].split("</section>")[0]
    )
