"""A portfolio: many works, one signature, each work's provenance standing on its own."""

import json
import subprocess

import pytest
from django.conf import settings as django_settings
from eth_account import Account
from eth_account.messages import encode_typed_data

from core.chain.accounts import COUNTERFACTUAL, EOA
from core.chain.eip712 import typed_data_digest, typed_data_sign
from core.chain.sender import sender_context
from licensing.models import Offer
from licensing.tests.helpers import mine
from tests.fixtures.images import make_image, upload_file
from works import anchoring, portfolios
from works.models import Portfolio, Registration
from works.validation import InvalidImage
from works.verification import provenance_check

pytestmark = pytest.mark.anvil
Status = Registration.Status


def _portfolio(persona, n, *, seed=500, preset=""):
    portfolio = portfolios.portfolio_create(user=persona.user, creator_address=persona.address, preset=preset)
    works = [
        portfolios.portfolio_add(
            portfolio=portfolio,
            user=persona.user,
            file=upload_file(make_image(seed=seed + i), f"piece_{i}.jpg"),
        )
        for i in range(n)
    ]
    return portfolio, works


def _anchor(chain):
    ctx = sender_context(w3=chain)
    batch = anchoring.batch_send(batch=anchoring.batch_seal(w3=chain), ctx=ctx)
    mine(chain)
    anchoring.batch_refresh(batch=batch, ctx=ctx)


def test_one_signature_registers_every_work_and_each_verifies_alone(chain, creator, client):
    portfolio, works = _portfolio(creator, 5, preset="commercial_use")
    assert [w.title for w in works] == [f"piece {i}" for i in range(5)]
    portfolio = portfolios.portfolio_seal(portfolio=portfolio, user=creator.user, w3=chain)
    assert portfolio.status == Portfolio.Status.SEALED and portfolio.count == 5
    message = portfolio.typed_data["message"]
    assert message["registrationsRoot"] == portfolio.root and message["count"] == 5

    portfolio = portfolios.portfolio_sign(
        portfolio=portfolio,
        user=creator.user,
        signature=typed_data_sign(portfolio.typed_data, creator.account),
        w3=chain,
    )
    assert portfolio.status == Portfolio.Status.SIGNED and portfolio.signer_kind == EOA
    registrations = Registration.objects.filter(portfolio=portfolio)
    assert {r.status for r in registrations} == {Status.PENDING}
    assert {r.signature for r in registrations} == {portfolio.signature}
    assert Offer.objects.filter(work__in=works).count() == 5, "the preset is offered for every work"

    _anchor(chain)
    documents = [client.get(f"/works/{w.pk}/provenance.json").json() for w in works]
    for document in documents:
        assert document["eip712"]["primaryType"] == "Registration"
        assert document["portfolio"]["eip712"]["primaryType"] == "Portfolio"
        check = provenance_check(document, w3=chain)
        assert check.ok and check.signer == creator.address, check

    # A registration that is not under the signed root does not pass for one that is.
    swapped = dict(
        documents[0], portfolio={**documents[0]["portfolio"], "proof": documents[1]["portfolio"]["proof"]}
    )
    assert not provenance_check(swapped, w3=chain).signature_ok
    forged = dict(
        documents[0], signature=typed_data_sign(documents[0]["portfolio"]["eip712"], Account.create())
    )
    assert not provenance_check(forged, w3=chain).signature_ok


def test_a_third_party_checks_a_portfolio_work_with_openzeppelin_and_eth_account(chain, creator, client):
    portfolio, works = _portfolio(creator, 3, seed=520)
    portfolio = portfolios.portfolio_seal(portfolio=portfolio, user=creator.user, w3=chain)
    portfolios.portfolio_sign(
        portfolio=portfolio,
        user=creator.user,
        signature=typed_data_sign(portfolio.typed_data, creator.account),
        w3=chain,
    )
    documents = [client.get(f"/works/{w.pk}/provenance.json").json() for w in works]
    for document in documents:  # eth-account: who signed the portfolio
        signed = encode_typed_data(full_message=document["portfolio"]["eip712"])
        signer = Account.recover_message(signed, signature=document["signature"])
        assert signer == document["creator"]
    script = """
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
const items = JSON.parse(require("fs").readFileSync(0, "utf8"));
const verified = items.map(i => StandardMerkleTree.verify(i.root, i.encoding, [i.digest], i.proof));
console.log(JSON.stringify(verified));
"""
    items = [
        {
            "root": d["portfolio"]["eip712"]["message"]["registrationsRoot"],
            "encoding": d["portfolio"]["leaf_encoding"],
            "digest": typed_data_digest(d["eip712"]),  # the registration as the creator's wallet built it
            "proof": d["portfolio"]["proof"],
        }
        for d in documents
    ]
    result = subprocess.run(
        ["node", "-e", script],
        input=json.dumps(items),
        capture_output=True,
        text=True,
        cwd=django_settings.BASE_DIR,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [True, True, True]


def test_a_smart_account_signs_a_portfolio(chain, smart_persona, client):
    artist = smart_persona("artist", deployed=False, salt=31)
    portfolio, works = _portfolio(artist, 2, seed=540)
    portfolio = portfolios.portfolio_seal(portfolio=portfolio, user=artist.user, w3=chain)
    forged = artist.wallet.wrap(typed_data_sign(portfolio.typed_data, Account.create()))
    with pytest.raises(portfolios.PortfolioError) as refused:
        portfolios.portfolio_sign(portfolio=portfolio, user=artist.user, signature=forged, w3=chain)
    assert refused.value.message == portfolios.ERR_SIGNATURE.format(address=artist.address)
    portfolio = portfolios.portfolio_sign(
        portfolio=portfolio, user=artist.user, signature=artist.sign_typed(portfolio.typed_data), w3=chain
    )
    assert portfolio.signer_kind == COUNTERFACTUAL
    _anchor(chain)
    document = client.get(f"/works/{works[0].pk}/provenance.json").json()
    check = provenance_check(document, w3=chain)
    assert check.ok and check.signer_kind == COUNTERFACTUAL


def test_refusals_name_the_file_and_the_rest_go_on(chain, creator, outsider):
    portfolio = portfolios.portfolio_create(user=creator.user, creator_address=creator.address)
    with pytest.raises(InvalidImage):
        portfolios.portfolio_add(
            portfolio=portfolio, user=creator.user, file=upload_file(b"not an image", "notes.jpg")
        )
    portfolios.portfolio_add(
        portfolio=portfolio, user=creator.user, file=upload_file(make_image(seed=560), "a.jpg")
    )
    with pytest.raises(portfolios.PortfolioError):  # not theirs
        portfolios.portfolio_add(
            portfolio=portfolio, user=outsider.user, file=upload_file(make_image(seed=561), "b.jpg")
        )
    portfolio.refresh_from_db()
    assert portfolio.count == 1
    portfolios.portfolio_seal(portfolio=portfolio, user=creator.user, w3=chain)
    with pytest.raises(portfolios.PortfolioError) as closed:
        portfolios.portfolio_add(
            portfolio=portfolio, user=creator.user, file=upload_file(make_image(seed=562), "c.jpg")
        )
    assert closed.value.status == 409


def test_a_full_portfolio_refuses_more(chain, creator, monkeypatch):
    monkeypatch.setattr(Portfolio, "MAX_WORKS", 2)
    portfolio, _ = _portfolio(creator, 2, seed=570)
    with pytest.raises(portfolios.PortfolioError) as full:
        portfolios.portfolio_add(
            portfolio=portfolio, user=creator.user, file=upload_file(make_image(seed=573), "x.png")
        )
    assert full.value.message == portfolios.ERR_FULL.format(n=2)
    assert Registration.objects.filter(portfolio=portfolio).count() == 2


def test_the_csv_names_the_works(chain, creator):
    portfolio = portfolios.portfolio_create(user=creator.user, creator_address=creator.address)
    csv = "file,title,year,description\nharbour.jpg,Harbour at dusk,2019,Ink on paper\nother.png,,,\n"
    assert portfolios.portfolio_metadata(portfolio=portfolio, user=creator.user, data=csv.encode()) == 2
    work = portfolios.portfolio_add(
        portfolio=portfolio, user=creator.user, file=upload_file(make_image(seed=580), "harbour.jpg")
    )
    assert (work.title, work.year, work.description) == ("Harbour at dusk", 2019, "Ink on paper")
    with pytest.raises(portfolios.PortfolioError) as bad:
        portfolios.portfolio_metadata(portfolio=portfolio, user=creator.user, data=b"file,year\nx.png,soon\n")
    assert bad.value.message == portfolios.ERR_CSV_ROW.format(row=2, detail="“soon” is not a year")
    with pytest.raises(portfolios.PortfolioError) as columns:
        portfolios.portfolio_metadata(portfolio=portfolio, user=creator.user, data=b"name,title\nx.png,X\n")
    assert columns.value.message == portfolios.ERR_CSV_COLUMNS
    portfolio.refresh_from_db()
    assert portfolio.metadata["harbour.jpg"]["year"] == 2019, "a refused CSV keeps the earlier one"


def test_a_copy_made_public_after_the_upload_is_still_held_at_signing(chain, creator, outsider, register):
    portfolio = portfolios.portfolio_create(user=creator.user, creator_address=creator.address)
    work = portfolios.portfolio_add(
        portfolio=portfolio, user=creator.user, file=upload_file(make_image(seed=590), "first.jpg")
    )
    assert work.registration.hold_evidence == []
    earlier = register(outsider, seed=590, title="Theirs")  # the same picture, public before the signature
    assert earlier.registration.status == Status.PENDING
    portfolio = portfolios.portfolio_seal(portfolio=portfolio, user=creator.user, w3=chain)
    portfolios.portfolio_sign(
        portfolio=portfolio,
        user=creator.user,
        signature=typed_data_sign(portfolio.typed_data, creator.account),
        w3=chain,
    )
    work.registration.refresh_from_db()
    assert work.registration.status == Status.HELD
    assert [m["work_id"] for m in work.registration.hold_evidence] == [earlier.pk]


def test_a_large_portfolio_is_finished_by_the_anchor_tick_and_offered_once(
    chain, creator, monkeypatch, client
):
    from works.tasks import anchor_tick

    monkeypatch.setattr(portfolios, "SIGN_SLICE", 2)
    portfolio, works = _portfolio(creator, 5, seed=600, preset="commercial_use")
    portfolio = portfolios.portfolio_seal(portfolio=portfolio, user=creator.user, w3=chain)
    portfolio = portfolios.portfolio_sign(
        portfolio=portfolio,
        user=creator.user,
        signature=typed_data_sign(portfolio.typed_data, creator.account),
        w3=chain,
    )
    statuses = list(
        Registration.objects.filter(portfolio=portfolio).order_by("pk").values_list("status", flat=True)
    )
    assert statuses == [Status.PENDING] * 2 + [Status.AWAITING_SIGNATURE] * 3
    assert portfolio.registered_at is None and not Offer.objects.filter(work__in=works).exists()
    client.force_login(creator.user)
    page = client.get(f"/works/portfolios/{portfolio.pk}/").content.decode()
    assert "3 of 5 are still being checked for copies and registered" in page

    result = anchor_tick()  # the beat: the rest of the portfolio, then the anchor batch
    assert result["portfolio_works_registered"] == 3
    assert set(Registration.objects.filter(portfolio=portfolio).values_list("status", flat=True)) <= {
        Status.PENDING,
        Status.SENT,
        Status.MINED,
    }
    assert Offer.objects.filter(work__in=works).count() == 5
    assert anchor_tick()["portfolio_works_registered"] == 0
    assert Offer.objects.filter(work__in=works).count() == 5, "offered once"


def test_verify_provenance_names_the_portfolio(chain, creator, tmp_path, settings):
    import io

    from django.core.management import call_command

    portfolio, works = _portfolio(creator, 2, seed=620)
    portfolio = portfolios.portfolio_seal(portfolio=portfolio, user=creator.user, w3=chain)
    portfolios.portfolio_sign(
        portfolio=portfolio,
        user=creator.user,
        signature=typed_data_sign(portfolio.typed_data, creator.account),
        w3=chain,
    )
    _anchor(chain)
    path = tmp_path / "piece.jpg"
    with works[1].original.open("rb") as handle:
        path.write_bytes(handle.read())
    out = io.StringIO()
    call_command("verify_provenance", str(path), "--rpc", settings.CHAIN_RPC_URL, stdout=out)
    text = out.getvalue()
    assert f"one signature over 2 registrations, this one proven under root {portfolio.root}" in text
    assert "Verified: signature, proof and on-chain root all check out." in text
