"""Odd requests get 4xx answers with a message, never a 500."""

import pytest

pytestmark = pytest.mark.django_db

ANONYMOUS_GETS = [
    "/catalogue?page=abc",
    "/catalogue?page=999999",
    "/catalogue?min_price=-1",
    "/catalogue?max_price=1e999",
    "/catalogue?sort=drop%20table",
    "/catalogue?ai=maybe&licence=nope",
    "/catalogue?q=" + "x" * 5000,
    "/works/999999/",
    "/works/999999/provenance.json",
    "/works/999999/terms.json",
    "/works/999999/tdm-policy.json",
    "/works/999999/status",
    "/licences/999999/",
    "/licences/999999.json",
    "/quotes/0xnothing/",
    "/verify",
    "/ai.txt",
    "/.well-known/tdmrep.json",
    "/media/previews/../../etc/passwd",
    "/media/originals/x.jpg",
]


@pytest.mark.parametrize("url", ANONYMOUS_GETS)
def test_odd_gets_never_500(client, url):
    response = client.get(url)
    assert response.status_code < 500, (url, response.status_code)


@pytest.mark.parametrize(
    "url,data",
    [
        ("/verify", {"sha256": "zz" * 40}),
        ("/verify", {"file": ""}),
        ("/auth/siwe/verify", "\x00\x01"),
        ("/offers/999999/quote", {}),
        ("/offers/999999/withdraw", {}),
        ("/works/999999/sign", {}),
    ],
)
def test_odd_posts_never_500(client, creator, url, data):
    client.force_login(creator.user)
    if isinstance(data, str):
        response = client.post(url, data=data, content_type="application/json")
    else:
        response = client.post(url, data)
    assert 400 <= response.status_code < 500, (url, response.status_code)


def test_an_upload_with_a_missing_title_says_so(client, creator):
    from tests.fixtures.images import make_image, upload_file

    client.force_login(creator.user)
    response = client.post("/works/new", {"file": upload_file(make_image())})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_an_absurdly_long_media_name_is_a_404_not_a_500(client):
    assert client.get("/media/thumbnails/" + "a" * 256).status_code == 404
    assert client.get("/media/previews/" + "b" * 4000 + ".jpg").status_code == 404


def test_pages_people_reach_by_mistake_look_like_the_site(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    page = response.content.decode()
    assert 'class="topbar"' in page and "Browse the catalogue" in page
    assert client.get("/favicon.ico")["Content-Type"] == "image/svg+xml"
    api = client.get("/api/v1/nothing-here")
    assert api.status_code == 404 and api.json()["error"] == "not_found"


def test_the_500_page_stands_alone(client):
    from django.template.loader import render_to_string

    page = render_to_string("500.html")
    assert 'class="topbar"' in page and "Back to the start" in page


@pytest.mark.parametrize(
    "url",
    ["/accounts/password/change/", "/accounts/password/reset/", "/accounts/email/", "/accounts/3rdparty/"],
)
def test_a_wallet_only_site_serves_no_password_or_email_pages(client, creator, url):
    client.force_login(creator.user)
    assert client.get(url).status_code == 404


def test_the_profile_keeps_the_optional_email_itself(client, creator):
    client.force_login(creator.user)
    page = client.get("/profile/").content.decode()
    assert "/accounts/email" not in page and "/accounts/password" not in page
    client.post("/profile/", {"display_name": "Ada", "email": "ada@example.org"})
    creator.user.refresh_from_db()
    assert creator.user.email == "ada@example.org"
    response = client.post("/profile/", {"display_name": "Ada", "email": "not-an-address"})
    assert response.status_code == 400 and "valid email" in response.content.decode()


def test_a_buyer_without_works_is_not_greeted_as_a_creator(client, buyer):
    client.force_login(buyer.user)
    page = client.get("/dashboard/").content.decode()
    assert "Welcome, creator" not in page
    assert 'data-testid="start-card"' in page and "Browse the catalogue" in page
    assert 'data-testid="work-list"' not in page
