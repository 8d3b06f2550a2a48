"""A portfolio's pages and JSON endpoints: private to its owner, refusals in JSON, never a 500."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.fixtures.images import make_image, upload_file
from works import portfolios
from works.models import Portfolio

pytestmark = pytest.mark.django_db


@pytest.fixture
def portfolio(creator):
    return portfolios.portfolio_create(user=creator.user, creator_address=creator.address, preset="cc_by")


def _add(client, portfolio, seed, name):
    return client.post(
        f"/works/portfolios/{portfolio.pk}/files", {"file": upload_file(make_image(seed=seed), name)}
    )


def test_the_owner_creates_a_portfolio_from_the_form(client, creator):
    client.force_login(creator.user)
    page = client.get("/works/portfolios/new").content.decode()
    assert 'value="commercial_use"' in page and "No offer for now" in page
    response = client.post("/works/portfolios/new", {"title": "Sketchbook", "preset": "ai_training"})
    portfolio = Portfolio.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/works/portfolios/{portfolio.pk}/"
    assert (portfolio.title, portfolio.preset, portfolio.creator_address) == (
        "Sketchbook",
        "ai_training",
        creator.address,
    )
    assert client.post("/works/portfolios/new", {"preset": "no_such"}).status_code == 400


def test_files_are_added_one_per_request_and_refusals_are_json(client, creator, portfolio):
    client.force_login(creator.user)
    added = _add(client, portfolio, 800, "dawn.jpg")
    assert added.status_code == 201 and added.json()["work"]["title"] == "dawn" and added.json()["count"] == 1
    again = _add(client, portfolio, 800, "dawn again.jpg")
    assert again.status_code == 409 and "You already uploaded this exact file" in again.json()["error"]
    bad = client.post(
        f"/works/portfolios/{portfolio.pk}/files", {"file": upload_file(b"GIF89a....", "x.gif")}
    )
    assert bad.status_code == 400 and bad.json()["error"]
    missing = client.post(f"/works/portfolios/{portfolio.pk}/files", {})
    assert missing.status_code == 400 and missing.json()["error"] == "Send one image in the “file” field."
    csv = client.post(f"/works/portfolios/{portfolio.pk}/csv", {"csv": upload_file(b"title\nX\n", "t.csv")})
    assert csv.status_code == 400 and csv.json()["error"] == portfolios.ERR_CSV_COLUMNS
    portfolio.refresh_from_db()
    assert portfolio.count == 1


def test_a_portfolio_is_invisible_to_everyone_else(client, creator, outsider, portfolio):
    _ = creator
    client.force_login(outsider.user)
    assert client.get(f"/works/portfolios/{portfolio.pk}/").status_code == 404
    assert _add(client, portfolio, 801, "mine.jpg").status_code == 404
    assert client.post(f"/works/portfolios/{portfolio.pk}/typed-data").status_code == 404
    assert (
        client.post(
            f"/works/portfolios/{portfolio.pk}/sign", {"signature": "0x00"}, content_type="application/json"
        ).status_code
        == 404
    )
    client.logout()
    assert client.get(f"/works/portfolios/{portfolio.pk}/").status_code == 302  # to sign in


def test_the_page_lists_every_work_in_a_fixed_number_of_queries(client, creator, portfolio):
    client.force_login(creator.user)
    _add(client, portfolio, 810, "a.jpg")
    with CaptureQueriesContext(connection) as one:
        client.get(f"/works/portfolios/{portfolio.pk}/")
    for i in range(4):
        _add(client, portfolio, 811 + i, f"b{i}.jpg")
    with CaptureQueriesContext(connection) as five:
        page = client.get(f"/works/portfolios/{portfolio.pk}/").content.decode()
    assert len(five) == len(one)
    assert page.count('loading="lazy"') == 5 and "Sign once for 5 works" in page


def test_preparing_the_signature_is_a_post(client, creator, portfolio):
    client.force_login(creator.user)
    assert client.get(f"/works/portfolios/{portfolio.pk}/typed-data").status_code == 405
    portfolio.refresh_from_db()
    assert portfolio.status == Portfolio.Status.OPEN, "a GET (a prefetch, a crawler) closes nothing"


def test_the_new_portfolio_page_lists_only_the_users_own_portfolios(client, creator, outsider, portfolio):
    portfolios.portfolio_create(user=outsider.user, creator_address=outsider.address, title="Theirs")
    Portfolio.objects.filter(pk=portfolio.pk).update(title="Sketchbook")
    client.force_login(creator.user)
    page = client.get("/works/portfolios/new").content.decode()
    assert f'href="/works/portfolios/{portfolio.pk}/">Sketchbook</a>' in page and "needs you" in page
    assert "Theirs" not in page
