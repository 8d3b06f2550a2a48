"""A buyer licenses a work through the pages, pays on-chain, and gets a certificate and a file
whose embedded rights say what the terms say."""

import html
import io
import json

import pytest
from PIL import Image

from core.chain import wallet
from core.chain.eip712 import typed_data_signer as signer_of
from core.chain.models import WalletTransaction
from licensing import services, uses
from licensing.delivery import c2pa_sign, c2pa_trust_anchors, manifest_of, training_mining_of
from licensing.models import CatalogueEntry, Licence, Offer, Quote
from licensing.terms import PRESETS
from licensing.tests.helpers import fund, index, mine, send_tx

pytestmark = pytest.mark.anvil


def _publish(client, creator, work, preset="ai_training", **overrides):
    client.force_login(creator.user)
    form = client.get(f"/works/{work.pk}/offers/new?preset={preset}").context["form"]
    data = {k: v for k, v in form.initial.items() if v not in (None, False)}
    data.update(overrides)
    return client.post(f"/works/{work.pk}/offers/new", data)


def _quote_url(client, buyer, offer, uses=("licence",)):
    client.force_login(buyer.user)
    response = client.post(f"/offers/{offer.pk}/quote", {"uses": list(uses)})
    assert response.status_code == 302, response.content
    assert response["Location"].startswith("/quotes/"), response["Location"]
    return response["Location"]


def _pay(client, chain, buyer, quote_url, *, value_delta=0):
    tx = client.get(quote_url + "tx").json()["tx"]
    tx["value"] = hex(int(tx["value"], 16) + value_delta)
    receipt = send_tx(chain, buyer.account, tx)
    response = client.post(
        quote_url + "submitted",
        {"txHash": receipt.transactionHash.to_0x_hex()},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return receipt


def _buy(client, chain, buyer, offer, uses=("licence",)):
    quote_url = _quote_url(client, buyer, offer, uses)
    receipt = _pay(client, chain, buyer, quote_url)
    assert receipt.status == 1
    return quote_url, receipt


def test_a_creator_publishes_an_offer_from_a_preset(register, client, chain, creator):
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


def test_offer_form_errors_are_explained(register, client, chain, creator):
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
    from tests.fixtures.images import make_image, upload_file
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


def test_editing_terms_publishes_a_new_version_and_old_licences_keep_theirs(register, client, chain, creator):
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


def _download_rights(client, licence):
    data = client.get(f"/licences/{licence.pk}/download").content
    entries = training_mining_of(manifest_of(data, "image/jpeg", trust_anchors=c2pa_trust_anchors()))
    xmp = Image.open(io.BytesIO(data)).getxmp()["xmpmeta"]["RDF"]["Description"]
    return data, entries, xmp


def test_buy_pay_index_certificate_and_download(register, client, chain, creator, buyer, settings):
    fund(chain, buyer.address)
    work = register(creator, seed=610, w3=chain, title="Tide pools")
    _publish(client, creator, work, preset="ai_training")
    offer = Offer.objects.get()

    quote_url, receipt = _buy(client, chain, buyer, offer)
    page = client.get(quote_url).content.decode()
    assert "waiting for 2 confirmations" in page

    mine(chain, settings.CHAIN_CONFIRMATIONS)
    index(chain)
    status = client.get(quote_url + "status").content.decode()
    assert "Licensed." in status
    licence = Licence.objects.get()
    assert licence.uses == uses.LICENCE
    from core.models import Notification

    sale = Notification.objects.get(user=creator.user, kind="sale")  # the creator hears of it
    assert (
        f"“Tide pools” sold: Licence to {buyer.address[:6]}…" in sale.text
        and sale.url == licence.get_absolute_url()
    )

    # The certificate, signed by the platform, says who may use what, and who licensed it.
    cert = client.get(f"/licences/{licence.pk}.json").json()
    assert cert["licensee"]["address"] == buyer.address
    assert cert["licensor"]["address"] == creator.address
    assert cert["uses_bought"] == ["licence"]
    assert signer_of(cert["certificate"], cert["signature"]) == cert["signer"]
    assert cert["certificate"]["message"]["txHash"] == receipt.transactionHash.to_0x_hex()
    assert cert["certificate"]["message"]["licensor"] == creator.address

    # The licensed download carries C2PA and XMP that match what was bought: not AI training.
    from core.services import profile_update

    profile_update(user=creator.user, display_name="Ada Lovelace")
    data, entries, xmp = _download_rights(client, licence)
    assert xmp["creator"]["Seq"]["li"] == "Ada Lovelace"
    assert "Ada Lovelace" in client.get(f"/licences/{licence.pk}/").content.decode()  # the licensor
    manifest = manifest_of(data, "image/jpeg", trust_anchors=c2pa_trust_anchors())
    assert manifest["validation_status"] is None  # valid, and signed by a trusted (platform) CA
    assert entries["cawg.ai_training"]["use"] == "constrained"
    assert entries["cawg.ai_generative_training"]["use"] == "constrained"
    assert xmp["DataMining"] == "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-SEECONSTRAINT"
    assert "AI training: not granted; requires a paid AI-training licence" in xmp["OtherConstraints"]
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


def test_ai_training_is_priced_charged_and_granted(register, client, chain, creator, buyer, settings):
    """The review's flagship finding: the AI price was shown but never charged."""
    fund(chain, buyer.address)
    work = register(creator, seed=615, w3=chain, title="Kelp")
    _publish(client, creator, work, preset="ai_training")
    offer = Offer.objects.get()
    terms = offer.terms.terms

    quote_url = _quote_url(client, buyer, offer, uses=("licence", "ai_training"))
    quote = Quote.objects.get()
    assert int(quote.price_wei) == terms.fee_wei + terms.ai_training_price_wei
    assert [line["use"] for line in quote.lines] == ["licence", "ai_training"]
    page = client.get(quote_url).content.decode()
    assert "AI training" in page and "0.015 ETH" in page
    receipt = _pay(client, chain, buyer, quote_url)
    assert receipt.status == 1
    mine(chain, settings.CHAIN_CONFIRMATIONS)
    index(chain)

    licence = Licence.objects.get()
    assert licence.uses == uses.LICENCE | uses.AI_TRAINING
    assert int(licence.price_wei) == int(quote.price_wei)
    cert = client.get(f"/licences/{licence.pk}.json").json()
    assert cert["uses_bought"] == ["licence", "ai_training"]
    assert cert["certificate"]["message"]["uses"] == 3
    _, entries, xmp = _download_rights(client, licence)
    assert entries["cawg.ai_training"]["use"] == "allowed"
    assert entries["cawg.data_mining"]["use"] == "allowed"  # consistent with training granted
    assert entries["cawg.ai_generative_training"]["use"] == "constrained"
    assert xmp["DataMining"] == "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-GENAIMLTRAINING"
    assert "AI training: granted to this licensee." in xmp["OtherConstraints"]


def test_ai_training_alone_is_sold_for_its_price_without_the_base_fee(
    register, client, chain, creator, buyer, settings
):
    fund(chain, buyer.address)
    work = register(creator, seed=616, w3=chain)
    _publish(client, creator, work, preset="ai_training", fee_eth="0")
    offer = Offer.objects.get()
    quote_url = _quote_url(client, buyer, offer, uses=("ai_training", "genai_training"))
    quote = Quote.objects.get()
    assert (
        int(quote.price_wei)
        == offer.terms.terms.ai_training_price_wei + offer.terms.terms.genai_training_price_wei
    )
    assert int(quote.price_wei) > 0
    _pay(client, chain, buyer, quote_url)
    mine(chain, settings.CHAIN_CONFIRMATIONS)
    index(chain)
    _, entries, xmp = _download_rights(client, Licence.objects.get())
    assert {v["use"] for v in entries.values()} == {"allowed"}
    assert xmp["DataMining"].endswith("DMI-ALLOWED")


def test_a_prohibited_use_cannot_be_bought(register, client, chain, creator, buyer):
    work = register(creator, seed=617, w3=chain)
    _publish(client, creator, work, preset="commercial_use")
    client.force_login(buyer.user)
    response = client.post(f"/offers/{Offer.objects.get().pk}/quote", {"uses": ["ai_training"]}, follow=True)
    assert uses.ERR_PROHIBITED.format(label="AI training") in html.unescape(response.content.decode())
    response = client.post(f"/offers/{Offer.objects.get().pk}/quote", {}, follow=True)
    assert uses.ERR_NO_USE in response.content.decode()
    assert Quote.objects.count() == 0


def test_a_licence_held_cannot_be_bought_twice_and_the_page_says_so(
    register, client, chain, creator, buyer, settings
):
    fund(chain, buyer.address)
    work = register(creator, seed=618, w3=chain)
    _publish(client, creator, work, preset="ai_training")
    offer = Offer.objects.get()
    first = _quote_url(client, buyer, offer)
    assert _quote_url(client, buyer, offer) == first  # the open quote is reused, never a second one
    _pay(client, chain, buyer, first)
    mine(chain, settings.CHAIN_CONFIRMATIONS)
    index(chain)
    licence = Licence.objects.get()

    response = client.post(f"/offers/{offer.pk}/quote", {"uses": ["licence"]}, follow=True)
    assert "You already hold this licence" in response.content.decode()
    assert Quote.objects.count() == 1
    page = client.get(f"/works/{work.pk}/").content.decode()
    assert 'data-testid="held-licence"' in page and licence.get_absolute_url() in page
    assert "Buy more uses" in page  # AI training is still for sale
    assert 'value="licence" data-testid="use-licence" disabled' in page

    # Buying the uses not yet held is allowed.
    more = _quote_url(client, buyer, offer, uses=("ai_training",))
    assert more != first


def test_an_expired_quote_says_so_hides_pay_and_offers_a_fresh_one(register, client, chain, creator, buyer):
    work = register(creator, seed=619, w3=chain)
    _publish(client, creator, work, preset="commercial_use")
    offer = Offer.objects.get()
    quote_url = _quote_url(client, buyer, offer)
    page = client.get(quote_url).content.decode()
    assert "unix" not in page
    quote = Quote.objects.get()
    assert quote.expires_at.strftime("%-d %b %Y, %H:%M") in page and 'data-testid="pay"' in page

    Quote.objects.filter(pk=quote.pk).update(expiry=quote.expiry - 10_000)
    page = client.get(quote_url).content.decode()
    assert "This quote expired" in page and 'data-testid="pay"' not in page
    quote.refresh_from_db()
    assert quote.status == Quote.Status.EXPIRED
    response = client.get(quote_url + "tx")
    assert response.status_code == 410 and "expired" in response.json()["error"]

    fresh = client.post(f"/offers/{offer.pk}/quote", {"uses": ["licence"]})
    assert fresh["Location"] != quote_url and Quote.objects.filter(status="open").count() == 1


def test_a_reverted_payment_returns_to_pay_with_its_reason_and_a_later_one_counts(
    register, client, chain, creator, buyer, settings
):
    fund(chain, buyer.address)
    work = register(creator, seed=620, w3=chain)
    _publish(client, creator, work, preset="commercial_use")
    quote_url = _quote_url(client, buyer, Offer.objects.get())
    failed = _pay(client, chain, buyer, quote_url, value_delta=-1)
    assert failed.status == 0
    page = client.get(quote_url).content.decode()
    assert "The amount sent was not the quoted price." in page
    assert 'data-testid="pay"' in page and "waiting for confirmations" not in page

    good = _pay(client, chain, buyer, quote_url)
    assert good.status == 1
    assert "waiting for 2 confirmations" in client.get(quote_url + "status").content.decode()
    sent = WalletTransaction.objects.filter(kind="purchase", subject=quote_url.split("/")[2])
    assert list(sent.values_list("status", flat=True)) == ["reverted", "mined"]
    mine(chain, settings.CHAIN_CONFIRMATIONS)
    index(chain)
    assert "Licensed." in client.get(quote_url + "status").content.decode()
    assert list(sent.values_list("status", flat=True)) == ["reverted", "confirmed"]


def test_a_withdrawn_offers_quote_cannot_be_paid(register, client, chain, creator, buyer):
    work = register(creator, seed=621, w3=chain)
    _publish(client, creator, work, preset="commercial_use")
    offer = Offer.objects.get()
    quote_url = _quote_url(client, buyer, offer)
    client.force_login(creator.user)
    client.post(f"/offers/{offer.pk}/withdraw")
    client.force_login(buyer.user)
    assert "The creator withdrew this offer" in client.get(quote_url).content.decode()
    assert client.get(quote_url + "tx").status_code == 409


def test_licence_details_are_private_and_certificates_verify_by_presentation(
    register, client, chain, creator, buyer, outsider, settings
):
    fund(chain, buyer.address)
    work = register(creator, seed=622, w3=chain)
    _publish(client, creator, work, preset="commercial_use")
    _buy(client, chain, buyer, Offer.objects.get())
    mine(chain, settings.CHAIN_CONFIRMATIONS)
    index(chain)
    licence = Licence.objects.get()
    document = client.get(f"/licences/{licence.pk}.json").content.decode()

    for who in (None, outsider):
        if who:
            client.force_login(who.user)
        else:
            client.logout()
        assert client.get(f"/licences/{licence.pk}/").status_code == 404
        assert client.get(f"/licences/{licence.pk}.json").status_code == 404
    client.force_login(creator.user)
    assert client.get(f"/licences/{licence.pk}/").status_code == 200

    client.logout()
    result = client.post("/licences/verify", {"text": document}).content.decode()
    assert "Genuine and valid" in result
    tampered = json.loads(document)
    tampered["certificate"]["message"]["price"] = 1
    result = client.post("/licences/verify", {"text": json.dumps(tampered)}).content.decode()
    assert "Not valid" in result and "altered" in result
    response = client.post("/licences/verify", {"text": "{not json"})
    assert response.status_code == 400 and "not valid JSON" in response.content.decode()


def test_a_free_ai_licence_says_allowed_in_c2pa_and_xmp(register, client, chain, creator, buyer, settings):
    fund(chain, buyer.address)
    work = register(creator, seed=611, w3=chain)
    _publish(client, creator, work, preset="cc_by", fee_eth="0.001")
    _buy(client, chain, buyer, Offer.objects.get())
    mine(chain, settings.CHAIN_CONFIRMATIONS)
    index(chain)
    client.force_login(buyer.user)
    _, entries, xmp = _download_rights(client, Licence.objects.get())
    assert {v["use"] for v in entries.values()} == {"allowed"}
    assert xmp["DataMining"].endswith("DMI-ALLOWED")


def test_the_legacy_c2pa_training_mining_label_is_read_too():
    from tests.fixtures.images import make_image

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


def test_buying_your_own_work_is_refused(register, client, chain, creator):
    work = register(creator, seed=612, w3=chain)
    _publish(client, creator, work)
    response = client.post(f"/offers/{Offer.objects.get().pk}/quote", {"uses": ["licence"]}, follow=True)
    assert services.ERR_OWN_WORK in html.unescape(response.content.decode())


def test_a_quote_belongs_to_its_buyer(register, client, chain, creator, buyer, outsider):
    work = register(creator, seed=613, w3=chain)
    _publish(client, creator, work)
    quote_url = _quote_url(client, buyer, Offer.objects.get())
    client.force_login(outsider.user)
    assert client.get(quote_url).status_code == 404
    assert client.get(quote_url + "tx").status_code == 404


def test_a_bad_tx_hash_report_is_refused(register, client, chain, creator, buyer):
    work = register(creator, seed=614, w3=chain)
    _publish(client, creator, work)
    quote_url = _quote_url(client, buyer, Offer.objects.get())
    response = client.post(quote_url + "submitted", {"txHash": "nope"}, content_type="application/json")
    assert response.status_code == 400
    assert json.loads(response.content)["error"] == wallet.ERR_TX_HASH
