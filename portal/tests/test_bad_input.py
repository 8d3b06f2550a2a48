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
    from conftest import make_image, upload_file

    client.force_login(creator.user)
    response = client.post("/works/new", {"file": upload_file(make_image())})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
