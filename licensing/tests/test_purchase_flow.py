"""A buyer licenses a work through the pages, pays on-chain, and gets a certificate and a file
whose embedded rights say what the terms say."""

import io
import json

import pytest
from PIL import Image

from licensing.delivery import c2pa_sign, c2pa_trust_anchors, manifest_of, training_mining_of
from licensing.eip712 import signer_of
from licensing.models import CatalogueEntry, Licence, Offer
from licensing.terms import PRESETS
from licensing.tests.helpers import fund, mine, send_tx
from portal.chain.contracts import MARKET
from portal.chain.events import events_index
from works.tests.test_anchoring import register

pytestmark = pytest.mark.anvil


def _publish(client, creator, work, preset="ai_training", **overrides):
    client.force_login(creator.user)
    form = client.get(f"/works/{work.pk}/offers/new?preset={preset}").context["form"]
    data = {k: v for k, v in form.initial.items() if v not in (None, False)}
    data.update(overrides)
    return client.post(f"/works/{work.pk}/offers/new", data)


def _buy(client, chain, buyer, offer):
    client.force_login(buyer.user)
    response = client.post(f"/offers/{offer.pk}/quote")
    assert response.status_code == 302, response.content
    quote_url = response["Location"]
    tx = client.get(quote_url + "tx").json()["tx"]
    receipt = send_tx(chain, buyer.account, tx)
    assert receipt.status == 1
    client.post(
        quote_url + "submitted",
        {"txHash": receipt.transactionHash.to_0x_hex()},
        content_type="application/json",
    )
    return quote_url, receipt


def test_a_creator_publishes_an_offer_from_a_preset(client, chain, creator):
    work = register(creator, seed=600, w3=chain)
    response = _publish(client, creator, work, title="Training, per work")
    assert response.status_code == 302
    offer = Offer.objects.get()
    terms = offer.terms.terms
    assert offer.title == "Training, per work"
    assert (
        terms.ai_training == "paid"
        and terms.ai_training_price_wei == PRESETS["ai_training"][1].ai_training_price_wei
    )
    assert CatalogueEntry.objects.get().ai_training == "paid"


def test_offer_form_errors_are_explained(client, chain, creator):
    work = register(creator, seed=601, w3=chain)
    response = _publish(
        client, creator, work, fee_eth="0.0000000000000000001", ai_training="paid", ai_training_price_eth=""
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "at most 18 decimal places" in page
    assert "Set a price, or choose free or prohibited." in page
    assert Offer.objects.count() == 0


def test_an_unsigned_work_cannot_be_offered(client, chain, creator):
    from conftest import make_image, upload_file
    from works import services as works_services

    work = works_services.work_upload(
        user=creator.user,
        creator_address=creator.address,
        file=upload_file(make_image(seed=602)),
        title="Draft",
    )
    response = _publish(client, creator, work)
    assert response.status_code == 400
    assert "Sign the work&#x27;s registration before offering licences." in response.content.decode()


def test_editing_terms_publishes_a_new_version_and_old_licences_keep_theirs(client, chain, creator):
    work = register(creator, seed=603, w3=chain)
    _publish(client, creator, work, preset="commercial_use")
    first = Offer.objects.get()
    _publish(client, creator, work, preset="commercial_use", fee_eth="0.02")
    assert Offer.objects.count() == 2
    assert Offer.objects.exclude(pk=first.pk).get().terms.terms_hash != first.terms.terms_hash
    response = _publish(client, creator, work, preset="commercial_use", fee_eth="0.02")
    assert "already has an active offer with exactly these terms" in response.content.decode()
    client.post(f"/offers/{first.pk}/withdraw")
    first.refresh_from_db()
    assert first.status == Offer.Status.WITHDRAWN


def test_buy_pay_index_certificate_and_download(client, chain, creator, buyer, settings):
    fund(chain, buyer.address)
    work = register(creator, seed=610, w3=chain, title="Tide pools")
    _publish(client, creator, work, preset="ai_training")
    offer = Offer.objects.get()

    quote_url, receipt = _buy(client, chain, buyer, offer)
    page = client.get(quote_url).content.decode()
    assert "waiting for confirmations" in page

    mine(chain, settings.CHAIN_CONFIRMATIONS)
    events_index(contract_name=MARKET, w3=chain)
    status = client.get(quote_url + "status").content.decode()
    assert "Licensed." in status
    licence = Licence.objects.get()

    # The certificate, signed by the platform, says who may use what.
    cert = client.get(f"/licences/{licence.pk}.json").json()
    assert cert["licensee"] == buyer.address
    assert signer_of(cert["certificate"], cert["signature"]) == cert["signer"]
    assert cert["certificate"]["message"]["txHash"] == receipt.transactionHash.to_0x_hex()
    assert buyer.address in client.get(f"/licences/{licence.pk}/").content.decode()

    # The licensed download carries C2PA and XMP that match the terms.
    response = client.get(f"/licences/{licence.pk}/download")
    assert response.status_code == 200
    data = response.content
    manifest = manifest_of(data, "image/jpeg", trust_anchors=c2pa_trust_anchors())
    assert manifest["validation_status"] is None  # valid, and signed by a trusted (platform) CA
    entries = training_mining_of(manifest)
    assert entries["cawg.ai_training"]["use"] == "constrained"
    assert entries["cawg.ai_generative_training"]["use"] == "constrained"
    xmp = Image.open(io.BytesIO(data)).getxmp()["xmpmeta"]["RDF"]["Description"]
    assert xmp["DataMining"] == "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-SEECONSTRAINT"
    assert "paid AI-training licence" in xmp["OtherConstraints"]
    with work.original.open("rb") as handle:
        original_bytes = handle.read()
    with Image.open(io.BytesIO(data)) as licensed, Image.open(io.BytesIO(original_bytes)) as original:
        assert licensed.tobytes() == original.tobytes()  # pixels untouched

    # Withdrawing the offer later leaves the licence valid.
    client.force_login(creator.user)
    client.post(f"/offers/{offer.pk}/withdraw")
    client.force_login(buyer.user)
    assert client.get(f"/licences/{licence.pk}/download").status_code == 200
    assert "Tide pools" in client.get("/licences/").content.decode()

    # Only the licensee downloads; the creator sees the sale.
    client.force_login(creator.user)
    assert client.get(f"/licences/{licence.pk}/download").status_code == 404
    sold = client.get("/licences/").content.decode()
    assert "Tide pools" in sold and buyer.address in sold


def test_a_free_ai_licence_says_allowed_in_c2pa_and_xmp(client, chain, creator, buyer, settings):
    fund(chain, buyer.address)
    work = register(creator, seed=611, w3=chain)
    _publish(client, creator, work, preset="cc_by", fee_eth="0.001")
    _buy(client, chain, buyer, Offer.objects.get())
    mine(chain, settings.CHAIN_CONFIRMATIONS)
    events_index(contract_name=MARKET, w3=chain)
    client.force_login(buyer.user)
    data = client.get(f"/licences/{Licence.objects.get().pk}/download").content
    entries = training_mining_of(manifest_of(data, "image/jpeg"))
    assert {v["use"] for v in entries.values()} == {"allowed"}
    xmp = Image.open(io.BytesIO(data)).getxmp()["xmpmeta"]["RDF"]["Description"]
    assert xmp["DataMining"].endswith("DMI-ALLOWED")


def test_the_legacy_c2pa_training_mining_label_is_read_too():
    from conftest import make_image

    terms = PRESETS["all_rights_reserved"][1]
    data = c2pa_sign(
        data=make_image(),
        mime="image/jpeg",
        title="old",
        terms=terms,
        licence_url="http://x/",
        label="c2pa.training-mining",
    )
    manifest = manifest_of(data, "image/jpeg")
    assert [a["label"] for a in manifest["assertions"] if "training" in a["label"]] == [
        "c2pa.training-mining"
    ]
    assert training_mining_of(manifest)["cawg.ai_generative_training"]["use"] == "notAllowed"


def test_buying_your_own_work_is_refused(client, chain, creator):
    work = register(creator, seed=612, w3=chain)
    _publish(client, creator, work)
    response = client.post(f"/offers/{Offer.objects.get().pk}/quote", follow=True)
    assert "You created this work; there is nothing to license from yourself." in response.content.decode()


def test_a_quote_belongs_to_its_buyer(client, chain, creator, buyer, outsider):
    work = register(creator, seed=613, w3=chain)
    _publish(client, creator, work)
    client.force_login(buyer.user)
    quote_url = client.post(f"/offers/{Offer.objects.get().pk}/quote")["Location"]
    client.force_login(outsider.user)
    assert client.get(quote_url).status_code == 404
    assert client.get(quote_url + "tx").status_code == 404


def test_a_bad_tx_hash_report_is_refused(client, chain, creator, buyer):
    work = register(creator, seed=614, w3=chain)
    _publish(client, creator, work)
    client.force_login(buyer.user)
    quote_url = client.post(f"/offers/{Offer.objects.get().pk}/quote")["Location"]
    response = client.post(quote_url + "submitted", {"txHash": "nope"}, content_type="application/json")
    assert response.status_code == 400
    assert json.loads(response.content)["error"] == "That is not a transaction hash."
