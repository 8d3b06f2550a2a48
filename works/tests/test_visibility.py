"""One visibility rule, checked on every URL that takes a work id: a draft exists for its owner
only; held and rejected works for their owner and moderators; public works for everyone."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.fixtures.images import make_image
from works import services
from works.models import Registration, Work

pytestmark = pytest.mark.anvil


def _work_urls():
    """Every GET-able URL pattern whose route takes a work id (`works/<int:pk>/...`)."""

    def walk(patterns, prefix=""):
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, route)
            elif isinstance(p, URLPattern) and route.startswith("works/<int:pk>"):
                yield route

    routes = sorted(set(walk(get_resolver().url_patterns)))
    assert len(routes) >= 8, routes  # the sweep must not silently shrink
    return routes


WORK_ROUTES = _work_urls()


def _url(route, pk):
    return "/" + route.replace("<int:pk>", str(pk))


@pytest.fixture
def works(register, draft, creator, outsider):
    """A draft, a held, a rejected and a public work, each with a distinctive title."""
    public = register(creator, seed=1100, title="PUBLIC-ORIGINAL")
    unsigned = draft(seed=1101, persona=creator, title="SECRET-DRAFT")
    held = register(outsider, seed=1100, title="HELD-COPY")
    rejected = register(outsider, seed=1100, title="REJECTED-COPY", image=make_image(seed=1100, quality=60))
    services.registration_reject(registration=rejected.registration)
    assert held.registration.status == Registration.Status.HELD
    return {"public": public, "draft": unsigned, "held": held, "rejected": rejected}


def _leaks(client, work):
    """URLs (and the preview/thumbnail) that answered this visitor with the work's content."""
    leaked = []
    for route in WORK_ROUTES:
        response = client.get(_url(route, work.pk))
        if response.status_code == 200:
            leaked.append(route)
        assert response.status_code in (200, 302, 403, 404, 405), (route, response.status_code)
    for media in (work.preview.url, work.thumbnail.url):
        if client.get(media).status_code == 200:
            leaked.append(media)
    return leaked


@pytest.mark.parametrize("kind", ["draft", "held", "rejected"])
def test_non_public_works_are_invisible_to_strangers_everywhere(client, works, outsider, buyer, kind):
    work = works[kind]
    assert _leaks(client, work) == []  # anonymous
    client.force_login(buyer.user)
    assert _leaks(client, work) == []
    if kind == "draft":  # the held/rejected works belong to `outsider`
        client.force_login(outsider.user)
        assert _leaks(client, work) == []


def test_owners_see_their_own_work_in_every_state(client, works, creator, outsider):
    client.force_login(creator.user)
    for kind in ("public", "draft"):
        assert client.get(f"/works/{works[kind].pk}/").status_code == 200
        assert client.get(works[kind].preview.url).status_code == 200
    client.force_login(outsider.user)
    for kind in ("held", "rejected"):
        assert client.get(f"/works/{works[kind].pk}/").status_code == 200
        assert client.get(works[kind].thumbnail.url).status_code == 200


def test_moderators_see_held_and_rejected_works_but_never_drafts(client, works, moderator):
    client.force_login(moderator)
    for kind in ("held", "rejected"):
        assert client.get(f"/works/{works[kind].pk}/").status_code == 200
        assert client.get(works[kind].preview.url).status_code == 200
    assert _leaks(client, works["draft"]) == []


def test_the_public_work_is_public_on_every_read_url(client, works):
    answered = {
        route for route in WORK_ROUTES if client.get(_url(route, works["public"].pk)).status_code == 200
    }
    assert {"works/<int:pk>/", "works/<int:pk>/status", "works/<int:pk>/provenance.json"} <= answered
    assert {"works/<int:pk>/terms.json", "works/<int:pk>/tdm-policy.json"} <= answered


def test_search_verify_and_signals_never_name_a_non_public_work(client, works, creator):
    from licensing import services as licensing
    from licensing.terms import PRESETS
    from tests.fixtures.images import upload_file

    with works["draft"].original.open("rb") as handle:
        draft_bytes = handle.read()
    with works["public"].original.open("rb") as handle:
        public_bytes = handle.read()
    licensing.offer_create(work=works["public"], terms=PRESETS["cc_by"][1], preset="cc_by")
    pages = [
        client.get("/catalogue").content.decode(),
        client.get("/catalogue?q=copy").content.decode(),
        client.get("/ai.txt").content.decode(),
        client.get("/.well-known/tdmrep.json").content.decode(),
    ]
    pages.append(client.post("/verify", {"file": upload_file(public_bytes)}).content.decode())
    pages.append(client.post("/verify", {"file": upload_file(draft_bytes)}).content.decode())
    pages.append(client.post("/verify", {"sha256": works["held"].sha256}).content.decode())
    text = "\n".join(pages)
    for kind in ("draft", "held", "rejected"):
        assert works[kind].title not in text, kind
        assert f"/works/{works[kind].pk}/" not in text, kind
    assert "PUBLIC-ORIGINAL" in text


def test_a_version_link_never_points_at_a_draft(client, register, draft, creator):
    first = draft(seed=1102, persona=creator, title="UNSIGNED-V1")
    second = register(creator, seed=1102, title="Signed v2", image=make_image(seed=1102, quality=60))
    Work.objects.filter(pk=second.pk).update(version_of=first)
    page = client.get(f"/works/{second.pk}/").content.decode()
    assert "UNSIGNED-V1" not in page and 'data-testid="version-of"' not in page
    client.force_login(creator.user)
    assert 'data-testid="version-of"' in client.get(f"/works/{second.pk}/").content.decode()
