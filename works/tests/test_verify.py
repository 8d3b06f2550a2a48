"""Public verification: the page, provenance.json and `manage.py verify_provenance`."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from core.chain.anvil import free_port
from core.chain.sender import sender_context
from licensing.tests.helpers import mine
from tests.fixtures.images import make_image, upload_file
from works import anchoring
from works.forms import ERR_SHA256
from works.management.commands.verify_provenance import ERR_NOT_REGISTERED, ERR_NOT_VERIFIED

pytestmark = pytest.mark.anvil


@pytest.fixture
def anchored(register, chain, creator):
    work = register(creator, seed=70, w3=chain, title="Lighthouse")
    ctx = sender_context(w3=chain)
    batch = anchoring.batch_send(batch=anchoring.batch_seal(w3=chain), ctx=ctx)
    mine(chain)
    anchoring.batch_refresh(batch=batch, ctx=ctx)
    work.refresh_from_db()
    return work


def _original(work) -> bytes:
    with work.original.open("rb") as handle:
        return handle.read()


def _file(work, tmp_path):
    path = tmp_path / "lighthouse.jpg"
    path.write_bytes(_original(work))
    return path


def test_the_verify_page_confirms_a_dropped_file(client, anchored):
    data = _original(anchored)
    response = client.post("/verify", {"file": upload_file(data, "x.jpg")})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Verified on-chain" in page
    assert anchored.creator_address in page
    assert "the contract confirms the proof" in page


def test_the_verify_page_accepts_a_pasted_sha256(client, anchored):
    response = client.post("/verify", {"sha256": "0x" + anchored.sha256.upper()})
    assert "Verified on-chain" in response.content.decode()


def test_the_verify_page_lists_near_matches_with_their_distance(client, anchored):
    buffer = io.BytesIO()
    from PIL import Image

    Image.open(io.BytesIO(_original(anchored))).save(buffer, format="JPEG", quality=50)
    response = client.post("/verify", {"file": upload_file(buffer.getvalue(), "copy.jpg")})
    page = response.content.decode()
    assert "No registration of this exact file." in page
    assert "Registered works this picture copies or resembles" in page and "PDQ distance" in page
    assert '<li data-verdict="copy">' in page and anchored.title in page


def test_the_verify_page_explains_bad_input(client, db):
    response = client.post("/verify", {"sha256": "abc"})
    assert response.status_code == 400
    assert ERR_SHA256 in response.content.decode()
    assert "Choose a file or paste a SHA-256." in client.post("/verify", {}).content.decode()


def test_provenance_json_has_everything_to_verify_offline(client, anchored):
    doc = client.get(f"/works/{anchored.pk}/provenance.json").json()
    assert doc["eip712"]["primaryType"] == "Registration"
    assert doc["eip712"]["domain"]["chainId"] == 31337
    assert (
        doc["signature"].startswith("0x") and len(doc["proof"]) == 0
    )  # a batch of one: the leaf is the root
    assert doc["root"] == doc["leaf"]["hash"]
    assert doc["tx_hash"] and doc["block_number"] and doc["contract_address"]


def test_verify_provenance_exits_zero_when_everything_checks_out(anchored, tmp_path, settings):
    out = io.StringIO()
    call_command(
        "verify_provenance", str(_file(anchored, tmp_path)), "--rpc", settings.CHAIN_RPC_URL, stdout=out
    )
    assert "Verified: signature, proof and on-chain root all check out." in out.getvalue()


def test_verify_provenance_fails_for_an_unknown_file(anchored, tmp_path):
    path = tmp_path / "other.jpg"
    path.write_bytes(make_image(seed=999))
    with pytest.raises(CommandError, match=ERR_NOT_REGISTERED):
        call_command("verify_provenance", str(path), stdout=io.StringIO())


def test_verify_provenance_fails_when_the_chain_does_not_confirm(anchored, tmp_path, client):
    document = client.get(f"/works/{anchored.pk}/provenance.json").json()
    document["root"] = document["leaf"]["hash"] = "0x" + "ab" * 32  # a root the contract never saw
    doc_path = tmp_path / "provenance.json"
    doc_path.write_text(json.dumps(document))
    with pytest.raises(CommandError, match=ERR_NOT_VERIFIED):
        call_command(
            "verify_provenance",
            str(_file(anchored, tmp_path)),
            "--document",
            str(doc_path),
            stdout=io.StringIO(),
        )


def test_verify_provenance_fails_when_the_chain_is_unreachable(anchored, tmp_path):
    out = io.StringIO()
    with pytest.raises(CommandError, match=ERR_NOT_VERIFIED):
        call_command(
            "verify_provenance",
            str(_file(anchored, tmp_path)),
            "--rpc",
            f"http://127.0.0.1:{free_port()}",
            stdout=out,
        )
    assert "could not ask the chain" in out.getvalue()


def test_a_pending_registration_is_reported_but_not_verified(register, client, chain, creator):
    work = register(creator, seed=71, w3=chain)
    response = client.post("/verify", {"sha256": work.sha256})
    page = response.content.decode()
    assert "Pending" in page and "not anchored yet" in page
