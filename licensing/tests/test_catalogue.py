"""The catalogue: filters, sort, pagination, htmx fragments, a fixed number of queries."""

import pytest

from licensing import services
from licensing.models import CatalogueEntry
from licensing.terms import PRESETS

pytestmark = pytest.mark.anvil


@pytest.fixture
def listed(register, chain, creator, co_creator):
    items = {}
    for i, (persona, preset, title, tags) in enumerate(
        [
            (creator, "cc_by", "Blue heron", ["bird"]),
            (creator, "ai_training", "Red fox", ["mammal"]),
            (co_creator, "commercial_use", "Heron at dawn", ["bird", "dawn"]),
            (co_creator, "all_rights_reserved", "Quiet street", ["city"]),
        ]
    ):
        work = register(persona, seed=800 + i, w3=chain, title=title)
        work.tags = tags
        work.save(update_fields=["tags"])
        services.offer_create(work=work, terms=PRESETS[preset][1], preset=preset)
        items[title] = work
    return items


def _titles(client, query):
    response = client.get("/catalogue?" + query)
    assert response.status_code == 200
    return [e.title for e in response.context["page"].object_list]


def test_search_by_title_creator_and_tag(client, listed, creator):
    assert sorted(_titles(client, "q=heron")) == ["Blue heron", "Heron at dawn"]
    assert _titles(client, "q=dawn") == ["Heron at dawn"]
    assert sorted(_titles(client, f"creator={creator.address.lower()}")) == ["Blue heron", "Red fox"]


def test_filters_ai_licence_and_price(client, listed):
    assert _titles(client, "ai=free") == ["Blue heron"]
    assert _titles(client, "ai=paid") == ["Red fox"]
    assert sorted(_titles(client, "ai=allowed")) == ["Blue heron", "Red fox"]
    assert sorted(_titles(client, "ai=prohibited")) == ["Heron at dawn", "Quiet street"]
    assert _titles(client, "licence=commercial_use") == ["Heron at dawn"]
    assert sorted(_titles(client, "min_price=0.005&max_price=0.01")) == ["Heron at dawn", "Red fox"]
    assert _titles(client, "sort=-price")[0] == "Heron at dawn"  # ties on price: newest first
    assert set(_titles(client, "sort=price")[:2]) == {"Blue heron", "Quiet street"}


def test_a_bad_filter_is_explained(client, listed):
    response = client.get("/catalogue?min_price=lots")
    assert response.status_code == 400
    assert "Enter an amount in ETH" in response.content.decode()
    # htmx swaps only 2xx answers: the fragment carries the error so the page shows it.
    fragment = client.get("/catalogue?min_price=lots", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    text = fragment.content.decode()
    assert 'data-testid="filter-errors"' in text and "Min price (ETH): Enter an amount in ETH" in text


def test_the_creator_filter_takes_a_display_name(client, listed, creator):
    from core.services import profile_update

    profile_update(user=creator.user, display_name="Ada Lovelace")
    assert sorted(_titles(client, "creator=ada+lovelace")) == ["Blue heron", "Red fox"]
    assert _titles(client, "creator=nobody") == []


def test_htmx_requests_get_only_the_results_fragment(client, listed):
    response = client.get("/catalogue?ai=free", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and "Blue heron" in body and 'data-testid="result-count"' in body


def test_the_page_costs_the_same_queries_whatever_its_size(
    client, listed, django_assert_num_queries, settings
):
    import licensing.selectors as selectors

    with django_assert_num_queries(3):  # count, the page's ids, its rows
        client.get("/catalogue")
    original = selectors.PAGE_SIZE
    selectors.PAGE_SIZE = 2
    try:
        with django_assert_num_queries(3):
            page = client.get("/catalogue?page=2&ai=allowed").context["page"]
        assert page.number == 1 and len(page.object_list) == 2  # 2 matches: one page
        with django_assert_num_queries(2):  # the count is cached until the catalogue changes
            client.get("/catalogue?page=2&ai=allowed")
    finally:
        selectors.PAGE_SIZE = original


def test_a_cached_count_follows_new_listings(register, client, listed, chain, co_creator):
    assert client.get("/catalogue").context["page"].paginator.count == 4
    work = register(co_creator, seed=820, w3=chain, title="New")
    services.offer_create(work=work, terms=PRESETS["cc_by"][1], preset="cc_by")
    assert client.get("/catalogue").context["page"].paginator.count == 5


def test_withdrawing_the_last_offer_unlists_the_work(client, listed):
    fox = listed["Red fox"]
    services.offer_withdraw(offer=fox.offers.get())
    assert not CatalogueEntry.objects.filter(work=fox).exists()
    assert "Red fox" not in _titles(client, "")


def test_a_cached_card_changes_when_the_works_offers_change(client, listed):
    from dataclasses import replace

    heron = listed["Heron at dawn"]
    assert 'data-exact="0.01">0.01 ETH' in client.get("/catalogue?q=dawn").content.decode()
    cheaper = services.offer_create(work=heron, terms=replace(PRESETS["commercial_use"][1], fee_wei=10**15))
    assert 'data-exact="0.001">0.001 ETH' in client.get("/catalogue?q=dawn").content.decode()
    services.offer_withdraw(offer=cheaper)
    assert 'data-exact="0.01">0.01 ETH' in client.get("/catalogue?q=dawn").content.decode()


def test_the_catalogue_follows_a_creators_new_display_name(client, listed, creator):
    from core.services import profile_update

    profile_update(user=creator.user, display_name="Ada Lovelace")
    assert sorted(_titles(client, "q=lovelace")) == ["Blue heron", "Red fox"]
    assert "Ada Lovelace" in client.get("/catalogue?q=lovelace").content.decode()
