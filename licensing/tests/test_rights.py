"""Public pages and media speak each work's AI terms to crawlers."""

import json
import re

import pytest

from licensing import services
from licensing.terms import PRESETS

pytestmark = pytest.mark.anvil


@pytest.fixture
def works(register, chain, creator):
    reserved = register(creator, seed=700, w3=chain, title="Reserved")
    free = register(creator, seed=701, w3=chain, title="Free for AI")
    paid = register(creator, seed=702, w3=chain, title="Paid AI")
    services.offer_create(work=free, terms=PRESETS["cc_by"][1], preset="cc_by")
    services.offer_create(work=paid, terms=PRESETS["ai_training"][1], preset="ai_training")
    return reserved, free, paid


def test_work_pages_and_previews_carry_ai_headers(client, works):
    reserved, free, paid = works
    for work in (reserved, paid):
        for url in (f"/works/{work.pk}/", work.preview.url, work.thumbnail.url):
            response = client.get(url)
            assert response["X-Robots-Tag"] == "noai, noimageai", url
            assert response["tdm-reservation"] == "1"
            assert response["tdm-policy"].endswith(f"/works/{work.pk}/tdm-policy.json")
    for url in (f"/works/{free.pk}/", free.preview.url):
        response = client.get(url)
        assert not response.has_header("X-Robots-Tag")
        assert response["tdm-reservation"] == "0"


def test_the_tdm_policy_is_odrl(client, works, settings):
    reserved, _, paid = works
    policy = client.get(f"/works/{paid.pk}/tdm-policy.json").json()
    assert policy["profile"] == "http://www.w3.org/ns/tdmrep"
    assert policy["assigner"]["uid"] == f"did:pkh:eip155:{settings.CHAIN_ID}:{paid.creator_address}"
    assert policy["permission"][0]["duty"][0]["action"] == "compensate"
    assert "prohibition" in client.get(f"/works/{reserved.pk}/tdm-policy.json").json()


def test_well_known_tdmrep_and_ai_txt(client, works):
    _, free, _ = works
    rules = client.get("/.well-known/tdmrep.json").json()
    assert {"location": f"/works/{free.pk}/*", "tdm-reservation": 0} in rules
    assert any(r["location"] == "/media/*" and r["tdm-reservation"] == 1 for r in rules)
    text = client.get("/ai.txt").content.decode()
    assert f"Allow: /works/{free.pk}/" in text and "Disallow: /media/" in text


def test_work_pages_have_schema_org_json_ld(client, works):
    _, _, paid = works
    page = client.get(f"/works/{paid.pk}/").content.decode()
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1))
    assert data["@type"] == "ImageObject"
    assert data["license"].endswith(f"/works/{paid.pk}/terms.json")
    assert data["acquireLicensePage"].endswith(f"/works/{paid.pk}/#offers")
    assert data["creditText"] == paid.creator_address and data["creator"]["name"] == paid.creator_address
    assert "©" in data["copyrightNotice"]
    assert data["offers"][0] == {
        "@type": "Offer",
        "name": "AI training licence (paid, per work)",
        "price": "0.01",
        "priceCurrency": "ETH",
    }
    terms = client.get(f"/works/{paid.pk}/terms.json").json()
    assert terms["offers"][0]["terms"]["ai_training"] == "paid"


def test_the_display_name_is_used_wherever_the_creator_is_named(client, works, creator):
    from core.services import profile_update

    _, _, paid = works
    profile_update(user=creator.user, display_name="Ada Lovelace")
    page = client.get(f"/works/{paid.pk}/").content.decode()
    assert "Ada Lovelace" in page
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1))
    assert data["creator"]["name"] == "Ada Lovelace" and data["creditText"] == "Ada Lovelace"
    with paid.original.open("rb") as handle:
        from tests.fixtures.images import upload_file

        verify = client.post("/verify", {"file": upload_file(handle.read())}).content.decode()
    assert "Ada Lovelace" in verify
    assert client.get(f"/works/{paid.pk}/provenance.json").json()["creator_name"] == "Ada Lovelace"
    assert client.get(f"/works/{paid.pk}/tdm-policy.json").json()["assigner"]["vcard:fn"] == "Ada Lovelace"


@pytest.fixture
def preset_works(register, chain, creator):
    """One listed work under each preset's offer, and one with no offer at all."""
    works = {"(no offer)": register(creator, seed=720, w3=chain, title="No offer")}
    for n, (key, (_, terms)) in enumerate(PRESETS.items()):
        work = register(creator, seed=721 + n, w3=chain, title=key)
        services.offer_create(work=work, terms=terms, preset=key)
        works[key] = work
    return works


def _rsl_training(document: bytes, work) -> str:
    """free, paid or prohibited: what license.xml says of AI training on the work's pages."""
    from defusedxml import ElementTree

    ns = {"rsl": "https://rslstandard.org/rsl"}
    for content in ElementTree.fromstring(document).findall("rsl:content", ns):
        if content.get("url") == f"/works/{work.pk}/*":
            licence = content.find("rsl:license", ns)
            if licence.find("rsl:prohibits", ns) is not None:
                return "prohibited"
            return licence.find("rsl:payment", ns).get("type").replace("training", "paid")
    return "prohibited"  # unlisted: the document's default reserves everything


def test_content_usage_agrees_with_cawg_tdmrep_and_rsl_for_every_preset(client, preset_works):
    """The IETF AI-preference signal, read by a third-party Structured Fields parser, says what
    CAWG's entries, TDMRep and RSL say, on the page, its images and robots.txt."""
    import http_sf

    from licensing.rights import training_mining_entries

    rsl = client.get("/license.xml").content
    robots = client.get("/robots.txt").content.decode()
    for key, work in preset_works.items():
        terms = PRESETS[key][1] if key in PRESETS else None
        cawg = training_mining_entries(terms) if terms else None
        allowed = bool(cawg) and all(
            cawg[k]["use"] == "allowed" for k in ("cawg.ai_training", "cawg.ai_generative_training")
        )
        for url in (f"/works/{work.pk}/", work.preview.url, work.thumbnail.url):
            response = client.get(url)
            usage = http_sf.parse(response["Content-Usage"].encode(), tltype="dictionary")
            assert {k: v[0] for k, v in usage.items()} == {
                "train-ai": http_sf.Token("y" if allowed else "n"),
                "search": http_sf.Token("y"),
            }, (key, url)
            assert response["tdm-reservation"] == ("0" if allowed else "1"), key
            rsl_link = '<http://testserver/license.xml>; rel="license"; type="application/rsl+xml"'
            assert response["Link"] == rsl_link
        assert _rsl_training(rsl, work) == (terms.ai_training if terms else "prohibited"), key
        assert (_rsl_training(rsl, work) == "free") == allowed, key
        rule = f"Content-Usage: /works/{work.pk}/ "
        lines = [line for line in robots.splitlines() if line.startswith(rule)]
        if terms is None:
            assert lines == [], "a work with no offer is not listed"
            continue
        assert len(lines) == 1, key
        parsed = http_sf.parse(lines[0].removeprefix(rule).encode(), tltype="dictionary")
        assert parsed["train-ai"][0] == http_sf.Token("y" if allowed else "n"), key
    assert "Content-Usage: train-ai" not in robots, "no site-wide rule: the most restrictive would win"
