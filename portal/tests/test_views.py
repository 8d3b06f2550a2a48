import pytest

pytestmark = pytest.mark.django_db


def test_home_page_invites_visitors_to_connect(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Connect wallet" in response.content


def test_dashboard_requires_sign_in(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith("/auth/signin?next=/dashboard/")


def test_signed_in_creator_sees_their_address_on_the_dashboard(client, creator):
    client.force_login(creator.user)
    response = client.get("/dashboard/")
    assert response.status_code == 200
    assert creator.address.encode() in response.content
    assert b"Sign out" in response.content


def test_dashboard_query_count_is_pinned(client, creator, django_assert_max_num_queries):
    client.force_login(creator.user)
    with django_assert_max_num_queries(12):
        client.get("/dashboard/")


def test_profile_saves_a_display_name(client, creator):
    client.force_login(creator.user)
    response = client.post("/profile/", {"display_name": "  Ada Lovelace "})
    assert response.status_code == 302
    creator.user.refresh_from_db()
    assert creator.user.profile.display_name == "Ada Lovelace"
    assert b"Ada Lovelace" in client.get("/dashboard/").content


def test_profile_refuses_a_name_that_is_too_long(client, creator):
    client.force_login(creator.user)
    response = client.post("/profile/", {"display_name": "x" * 81})
    assert response.status_code == 400
    assert b"Ensure this value has at most 80 characters" in response.content


def test_signin_page_redirects_a_signed_in_user(client, creator):
    client.force_login(creator.user)
    assert client.get("/auth/signin")["Location"] == "/dashboard/"


def test_password_login_and_signup_point_to_the_wallet(client):
    assert client.get("/accounts/login/")["Location"].startswith("/auth/signin")
    assert client.get("/accounts/signup/")["Location"].startswith("/auth/signin")


def test_sign_out_ends_the_session(client, siwe, wallet):
    siwe.sign_in(client, wallet)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert client.get("/dashboard/").status_code == 302


def test_a_json_post_without_csrf_token_gets_json(wallet):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.get("/auth/signin")
    response = client.post("/auth/siwe/verify", data="{}", content_type="application/json")
    assert response.status_code == 403
    assert "security token" in response.json()["error"]


def test_static_files_are_served_by_the_portal(client):
    response = client.get("/static/js/wallet.js")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"personal_sign" in body
