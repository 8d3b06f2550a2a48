"""The AI-company API through HTTP: keys (missing, revoked, wrong scope, another company's),
other companies' ids, malformed bodies, limits, rate limits, and what each endpoint answers."""

import json

import pytest
import time_machine

from licensing import services
from licensing.terms import PRESETS
from royalties.tests.factories import work_row
from works.services import fingerprint_publish

pytestmark = pytest.mark.django_db
API = "/api/v1"


def _call(client, method, path, key=None, body=None, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    if body is not None:
        return getattr(client, method)(
            API + path,
            data=json.dumps(body) if not isinstance(body, str) else body,
            content_type="application/json",
            **headers,
            **extra,
        )
    return getattr(client, method)(API + path, **headers, **extra)


@pytest.fixture
def listed(creator):
    """Three public works: AI training paid, free, and prohibited."""
    paid = work_row(creator.user, creator.address, title="Paid")
    free = work_row(creator.user, creator.address, title="Free")
    banned = work_row(creator.user, creator.address, title="Banned")
    for work in (paid, free, banned):
        fingerprint_publish(work=work)
    services.offer_create(work=paid, terms=PRESETS["ai_training"][1], preset="ai_training")
    services.offer_create(work=free, terms=PRESETS["cc_by"][1], preset="cc_by")
    services.offer_create(work=banned, terms=PRESETS["commercial_use"][1], preset="commercial_use")
    return {"paid": paid, "free": free, "banned": banned}


def _assert_error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == code and body["detail"]
    return body


def test_no_key_a_bad_key_and_a_revoked_key_answer_401_json_never_a_redirect(
    client, api_key, org, ai_company
):
    _assert_error(_call(client, "get", "/me"), 401, "unauthorized")
    _assert_error(_call(client, "get", "/me", key="cip_nothing_here"), 401, "unauthorized")
    key = api_key("read")
    assert _call(client, "get", "/me", key=key).json()["organisation"] == "Acme AI"
    from orgs import services
    from orgs.models import ApiKey

    services.api_key_revoke(org=org, by=ai_company.user, key=ApiKey.objects.get())
    _assert_error(_call(client, "get", "/me", key=key), 401, "key_revoked")
    response = client.get(API + "/me", HTTP_X_API_KEY=api_key("read"))
    assert response.status_code == 200  # the X-API-Key header works too


def test_a_session_is_not_a_key(client, creator):
    client.force_login(creator.user)
    _assert_error(_call(client, "get", "/licences"), 401, "unauthorized")


def test_scopes_are_enforced(client, api_key, listed):
    read_only = api_key("read")
    _assert_error(
        _call(client, "post", "/runs", read_only, {"run_id": "r1", "model_name": "m", "works": {"ids": [1]}}),
        403,
        "insufficient_scope",
    )
    _assert_error(
        _call(
            client,
            "post",
            "/training-quotes",
            read_only,
            {"purpose": "training", "model_name": "m", "buyer_address": "0x" + "1" * 40, "work_ids": [1]},
        ),
        403,
        "insufficient_scope",
    )
    report_only = api_key("report")
    _assert_error(
        _call(client, "post", "/manifest-checks", report_only, {"items": [{"sha256": "a" * 64}]}),
        403,
        "insufficient_scope",
    )


def test_the_manifest_check_matches_and_says_what_is_allowed(client, api_key, listed):
    key = api_key("read")
    items = [
        {"ref": "row-1", "sha256": listed["paid"].sha256},
        {"ref": "row-2", "sha256": "0x" + listed["banned"].sha256.upper()},
        {"ref": "row-3", "url": f"http://127.0.0.1:8000/works/{listed['free'].pk}/?utm_source=x"},
        {"ref": "row-4", "pdq": listed["paid"].pdq},
        {"ref": "row-5", "sha256": "f" * 64},
    ]
    response = _call(client, "post", "/manifest-checks", key, {"items": items})
    assert response.status_code == 200, response.content
    body = response.json()
    results = body["results"]
    assert body["items"] == 5 and body["matched"] == 4
    assert results[0]["match"]["work_id"] == listed["paid"].pk and results[0]["match"]["kind"] == "sha256"
    assert results[0]["terms"]["training"] == {
        "status": "paid",
        "price_wei": str(5 * 10**15),
        "currency": "ETH",
        "licensed": False,
        "licensed_until": None,
    }
    assert results[0]["terms"]["generative_training"]["price_wei"] == str(10**16)
    assert results[1]["exclude"] is True and results[1]["terms"]["training"]["status"] == "prohibited"
    assert results[2]["match"]["kind"] == "url" and results[2]["terms"]["training"]["status"] == "free"
    assert results[3]["match"]["kind"] == "pdq" and results[3]["match"]["distance"] == 0
    assert results[4]["match"] is None and results[4]["ref"] == "row-5"
    # each result says which item it answers, whatever the item was named by
    assert results[2]["url"] == items[2]["url"] and results[2]["sha256"] is None
    assert results[1]["sha256"] == listed["banned"].sha256 and results[3]["pdq"] == listed["paid"].pdq
    again = _call(client, "get", f"/manifest-checks/{body['id']}", key)
    assert again.json()["results"] == results


def test_urls_match_the_portals_own_pages_and_declared_publications_only(client, api_key, listed):
    from works.services import publication_add

    free = listed["free"]
    publication_add(work=listed["paid"], url="https://artist.example/gallery/paid-piece/")
    items = [
        {"url": f"https://elsewhere.example/works/{free.pk}"},  # another site's /works/N
        {"url": "http://www.artist.example/gallery/paid-piece?fbclid=1"},
        {"url": "not a url at all"},
    ]
    results = _call(client, "post", "/manifest-checks", api_key("read"), {"items": items}).json()["results"]
    assert results[0]["match"] is None
    assert results[1]["match"]["work_id"] == listed["paid"].pk and results[1]["match"]["kind"] == "url"
    assert results[2]["match"] is None


def test_drafts_never_match(client, api_key, creator):
    draft = work_row(creator.user, creator.address, status="awaiting_signature")
    results = _call(
        client, "post", "/manifest-checks", api_key("read"), {"items": [{"sha256": draft.sha256}]}
    ).json()["results"]
    assert results[0]["match"] is None


@pytest.mark.parametrize(
    "body,detail",
    [
        ({"items": []}, "items"),
        ({"items": [{"sha256": "nothex"}]}, "sha256"),
        ({"items": [{"pdq": "12"}]}, "pdq"),
        ({"wrong": 1}, "items"),
        ("{not json", ""),
    ],
)
def test_malformed_manifests_get_400_json(client, api_key, body, detail):
    body = _assert_error(
        _call(client, "post", "/manifest-checks", api_key("read"), body), 400, "invalid_request"
    )
    assert detail in body["detail"]


@pytest.mark.parametrize(
    "samples,detail",
    [({"1": False}, "samples.1"), ({"1": "3"}, "samples.1"), ({"x": 3}, "samples"), ({"1": -1}, "samples.1")],
)
def test_run_samples_are_integers_per_work_id(client, api_key, listed, samples, detail):
    body = {"run_id": "r-1", "model_name": "m", "works": {"ids": [listed["paid"].pk]}, "samples": samples}
    refused = _assert_error(_call(client, "post", "/runs", api_key("report"), body), 400, "invalid_request")
    assert detail in refused["detail"]
    ok = {**body, "samples": {str(listed["paid"].pk): 3.0}}  # 3.0 is an integer in JSON
    assert _call(client, "post", "/runs", api_key("report"), ok).status_code == 201


def test_run_times_with_any_rfc3339_offset_are_kept_in_utc(client, api_key, listed):
    """-23:41 is a valid RFC 3339 offset but outside PostgreSQL's ±15:59: stored as UTC, not a 500."""
    from training.models import TrainingRun

    body = {
        "run_id": "r-time",
        "model_name": "m",
        "works": {"ids": [listed["paid"].pk]},
        "started_at": "0944-08-01T01:34:37-23:41",
        "ended_at": "2026-11-30T10:00:00",
    }
    assert _call(client, "post", "/runs", api_key("report"), body).status_code == 201
    run = TrainingRun.objects.get(run_id="r-time")
    assert run.started_at.isoformat() == "0944-08-02T01:15:37+00:00"
    assert run.ended_at.isoformat() == "2026-11-30T10:00:00+00:00"
    overflow = {**body, "run_id": "r-overflow", "started_at": "0001-01-01T00:00:00+15:00"}
    refused = _assert_error(_call(client, "post", "/runs", api_key("report"), overflow), 422, "invalid_time")
    assert "started_at" in refused["detail"]
    # a number is not a date-time (lax parsing would read 0.24 as seconds after 1970)
    numeric = {**body, "run_id": "r-number", "started_at": 0.24}
    response = _call(client, "post", "/runs", api_key("report"), numeric)
    refused = _assert_error(response, 400, "invalid_request")
    assert "started_at" in refused["detail"] and "date-time" in refused["detail"]
    assert not TrainingRun.objects.filter(run_id="r-number").exists()


def test_an_audit_upload_without_files_is_refused_by_the_schema(client, api_key):
    response = client.post(
        "/api/v1/audits", {"name": "nothing"}, HTTP_AUTHORIZATION=f"Bearer {api_key('read')}"
    )
    assert "files" in _assert_error(response, 400, "invalid_request")["detail"]


def test_10001_items_are_refused(client, api_key):
    items = [{"sha256": f"{i:064x}"} for i in range(10_001)]
    body = _assert_error(
        _call(client, "post", "/manifest-checks", api_key("read"), {"items": items}), 400, "invalid_request"
    )
    assert "10000" in body["detail"]


def test_another_companys_ids_are_not_found(client, api_key, rival_org, rival, listed):
    mine = _call(
        client, "post", "/manifest-checks", api_key("read"), {"items": [{"sha256": listed["paid"].sha256}]}
    ).json()
    theirs = api_key("read", "report", organisation=rival_org, by=rival.user)
    _assert_error(_call(client, "get", f"/manifest-checks/{mine['id']}", theirs), 404, "not_found")
    run = _call(
        client,
        "post",
        "/runs",
        api_key("report"),
        {"run_id": "r", "model_name": "m", "works": {"ids": [listed["paid"].pk]}},
    ).json()
    _assert_error(_call(client, "get", f"/runs/{run['id']}", theirs), 404, "not_found")
    _assert_error(_call(client, "get", f"/invoices/{run['invoice']['id']}", theirs), 404, "not_found")
    _assert_error(
        _call(
            client,
            "post",
            "/runs",
            theirs,
            {"run_id": "x", "model_name": "m", "works": {"manifest_check_id": mine["id"]}},
        ),
        404,
        "not_found",
    )
    assert _call(client, "get", "/licences", theirs).json() == []


def test_a_run_report_sorts_works_and_invoices_the_unlicensed_idempotently(client, api_key, listed, creator):
    key = api_key("report", "read")
    body = {
        "run_id": "run-42",
        "model_name": "painter",
        "model_version": "1.0",
        "works": {"ids": [listed["paid"].pk, listed["free"].pk, listed["banned"].pk], "sha256": ["e" * 64]},
        "samples": {str(listed["paid"].pk): 12},
    }
    first = _call(client, "post", "/runs", key, body)
    assert first.status_code == 201, first.content
    run = first.json()
    statuses = {w["work_id"]: w["status"] for w in run["works"]}
    assert statuses == {
        listed["paid"].pk: "invoiced",
        listed["free"].pk: "free",
        listed["banned"].pk: "violation",
    }
    assert run["unmatched"] == ["e" * 64]
    assert run["invoice"]["total_wei"] == str(5 * 10**15) and run["invoice"]["lines"] == [
        {"work_id": listed["paid"].pk, "price_wei": str(5 * 10**15)}
    ]
    assert next(w for w in run["works"] if w["work_id"] == listed["paid"].pk)["samples"] == 12
    second = _call(client, "post", "/runs", key, {**body, "model_name": "changed"})
    assert (
        second.status_code == 200
        and second.json()["id"] == run["id"]
        and second.json()["model_name"] == "painter"
    )
    from core.models import Notification

    assert Notification.objects.filter(user=creator.user, kind="training_violation").count() == 1


def test_the_changes_feed_tells_a_company_about_withdrawn_consent(client, api_key, listed, creator):
    key = api_key("read")
    _call(client, "post", "/manifest-checks", key, {"items": [{"sha256": listed["paid"].sha256}]})
    start = _call(client, "get", "/changes", key).json()["next_cursor"]
    offer = listed["paid"].offers.get()
    services.offer_withdraw(offer=offer)  # the creator stops offering it: AI training no longer for sale
    feed = _call(client, "get", f"/changes?after={start}", key).json()
    assert [(c["work_id"], c["kind"], c["training"]) for c in feed["changes"]] == [
        (listed["paid"].pk, "consent_withdrawn", "prohibited")
    ]
    assert _call(client, "get", f"/changes?after={feed['next_cursor']}", key).json()["changes"] == []
    services.offer_withdraw(offer=listed["free"].offers.get())  # a work this company never looked at
    assert _call(client, "get", f"/changes?after={feed['next_cursor']}", key).json()["changes"] == []


def test_rate_limits_answer_429_with_retry_after(client, api_key):
    """A fixed minute window per key, with the clock held: 40 s into a minute, two calls pass,
    the third waits the 20 s left; the next minute lets the key in again."""
    key = api_key("read", rate=2)
    minute = 1_800_000_000 // 60 * 60
    with time_machine.travel(minute + 40, tick=False) as clock:
        assert _call(client, "get", "/me", key).status_code == 200
        assert _call(client, "get", "/me", key).status_code == 200
        response = _call(client, "get", "/me", key)
        _assert_error(response, 429, "rate_limited")
        assert response["Retry-After"] == "20" and "Retry in 20 s" in response.json()["detail"]
        clock.shift(20)
        assert _call(client, "get", "/me", key).status_code == 200


def test_work_terms_and_the_docs_are_served(client, api_key, listed):
    terms = _call(client, "get", f"/works/{listed['paid'].pk}/terms", api_key("read")).json()
    assert terms["training"]["status"] == "paid" and terms["generative_training"]["price_wei"] == str(10**16)
    schema = client.get(API + "/openapi.json").json()
    assert {"/api/v1/manifest-checks", "/api/v1/runs", "/api/v1/changes"} <= set(schema["paths"])
    docs = client.get(API + "/docs").content.decode()
    assert "swagger" in docs.lower() and "cdn" not in docs.lower()
    _assert_error(_call(client, "get", "/works/999999/terms", api_key("read")), 404, "not_found")


def test_the_rsl_document_states_each_works_ai_terms(client, listed):
    from defusedxml import ElementTree

    response = client.get("/license.xml")
    assert response["Content-Type"] == "application/rsl+xml"
    root = ElementTree.fromstring(response.content)
    ns = {"rsl": "https://rslstandard.org/rsl"}
    assert root.tag == "{https://rslstandard.org/rsl}rsl"
    contents = {c.get("url"): c for c in root.findall("rsl:content", ns)}
    paid = contents[f"/works/{listed['paid'].pk}/*"]
    assert paid.find("rsl:license/rsl:permits", ns).text == "ai-train"
    payment = paid.find("rsl:license/rsl:payment", ns)
    assert payment.get("type") == "training" and payment.find("rsl:amount", ns).text == "0.005"
    assert payment.find("rsl:amount", ns).get("currency") == "ETH"
    assert contents[f"/works/{listed['free'].pk}/*"].find("rsl:license/rsl:payment", ns).get("type") == "free"
    assert (
        contents[f"/works/{listed['banned'].pk}/*"].find("rsl:license/rsl:prohibits", ns).text == "ai-train"
    )
    assert contents["/"].find("rsl:license/rsl:prohibits", ns).text == "ai-train"
    robots = client.get("/robots.txt").content.decode()
    assert "License: http://testserver/license.xml" in robots


def test_a_body_over_the_limit_is_a_json_413(client, api_key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    items = [{"ref": "x" * 100, "sha256": "a" * 64} for _ in range(50)]
    body = _assert_error(
        _call(client, "post", "/manifest-checks", api_key("read"), {"items": items}), 413, "too_large"
    )
    assert "send fewer items" in body["detail"]


@pytest.mark.parametrize("runs", [1, 6])
def test_run_and_invoice_lists_cost_the_same_queries_for_one_run_or_many(
    client, api_key, listed, runs, django_assert_num_queries
):
    key = api_key("report", "read", rate=1000)
    for n in range(runs):
        body = {
            "run_id": f"r-{n}",
            "model_name": "m",
            "works": {"ids": [listed["paid"].pk, listed["free"].pk]},
        }
        assert _call(client, "post", "/runs", key, body).status_code == 201
    # key lookup, its last-used stamp is fresh; runs, their invoices (settlements joined), run works
    with django_assert_num_queries(4):
        listed_runs = _call(client, "get", "/runs", key).json()
    assert len(listed_runs) == runs and all(r["invoice"]["total_wei"] == str(5 * 10**15) for r in listed_runs)
    assert all(r["counts"]["invoiced"] == 1 and r["counts"]["free"] == 1 for r in listed_runs)
    with django_assert_num_queries(3):
        invoices = _call(client, "get", "/invoices", key).json()
    assert len(invoices) == runs and all(
        i["lines"] == [{"work_id": listed["paid"].pk, "price_wei": str(5 * 10**15)}] for i in invoices
    )
