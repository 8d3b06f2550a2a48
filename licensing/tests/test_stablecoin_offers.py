"""Offers priced in the stablecoin, on a real anvil: the offer form takes the currency, the
catalogue and pages show prices in it (never converted, never mixed with ETH), a buyer pays the
quote with one permit signature and one transaction, the licence says the currency, and the
ledger, the earnings page and reconciliation carry it."""

import pytest
from django.conf import settings
from eth_account.messages import encode_typed_data

from core.chain.contracts import MARKET, contract
from core.chain.stablecoin import stablecoin
from licensing.models import CatalogueEntry, Licence, Offer
from licensing.tests.helpers import fund, index, mine, mint_stablecoin, send_tx
from royalties.models import JournalLine
from royalties.reconciliation import reconcile

pytestmark = pytest.mark.anvil
FEE = 5_000_000  # 5 tUSDC


@pytest.fixture
def offer(client, register, chain, creator):
    work = register(creator, seed=790, w3=chain, title="Priced in dollars")
    client.force_login(creator.user)
    form = client.get(f"/works/{work.pk}/offers/new?preset=commercial_use").context["form"]
    data = {k: v for k, v in form.initial.items() if v not in (None, False)}
    page = client.post(f"/works/{work.pk}/offers/new", {**data, "currency": "tUSDC", "fee_eth": "5.0000001"})
    assert "at most 6 decimal places" in page.content.decode()
    response = client.post(f"/works/{work.pk}/offers/new", {**data, "currency": "tUSDC", "fee_eth": "5"})
    assert response.status_code == 302
    client.logout()
    return Offer.objects.get(work=work, status="active")


def test_a_stablecoin_offer_is_shown_and_filtered_in_its_own_currency(client, offer):
    terms = offer.terms.terms
    assert (terms.currency, terms.fee_wei) == ("tUSDC", FEE)
    entry = CatalogueEntry.objects.get(work=offer.work)
    assert (entry.fee_currency, int(entry.min_fee_wei)) == ("tUSDC", FEE)
    catalogue = client.get("/catalogue").content.decode()
    assert "from 5 tUSDC" in catalogue
    assert "Priced in dollars" not in client.get("/catalogue?max_price=100").content.decode()  # ETH filter
    page = client.get(offer.work.get_absolute_url()).content.decode()
    assert '<p class="price">5 tUSDC</p>' in page
    assert '"priceCurrency": "tUSDC"' in page and '"price": "5"' in page


def test_a_buyer_pays_a_stablecoin_quote_with_one_permit_and_gets_the_licence(
    client, chain, offer, creator, buyer
):
    fund(chain, buyer.address)
    mint_stablecoin(chain, buyer.address, 2 * FEE)
    client.force_login(buyer.user)
    response = client.post(f"/offers/{offer.pk}/quote", {"uses": ["licence"]})
    quote_url = response["Location"]
    assert "Pay 5 tUSDC with wallet" in client.get(quote_url).content.decode()
    prepared = client.get(quote_url + "tx").json()
    assert "tx" not in prepared and prepared["permit"]["primaryType"] == "Permit"
    assert prepared["permit"]["message"]["value"] == FEE
    bad = client.post(prepared["permitUrl"], {"signature": "0x12"}, content_type="application/json")
    assert bad.status_code == 400 and "65-byte" in bad.json()["error"]

    signature = buyer.account.sign_message(encode_typed_data(full_message=prepared["permit"])).signature
    tx = client.post(
        prepared["permitUrl"],
        {"signature": "0x" + signature.hex().removeprefix("0x")},
        content_type="application/json",
    ).json()["tx"]
    assert tx["value"] == "0x0"
    receipt = send_tx(chain, buyer.account, tx)
    assert receipt.status == 1
    client.post(
        quote_url + "submitted",
        {"txHash": receipt.transactionHash.to_0x_hex()},
        content_type="application/json",
    )
    mine(chain, settings.CHAIN_CONFIRMATIONS)
    index(chain)

    licence = Licence.objects.get(work=offer.work)
    assert int(licence.price_wei) == FEE and licence.certificate["message"]["currency"] == "tUSDC"
    assert stablecoin(w3=chain).functions.balanceOf(buyer.address).call() == FEE
    page = client.get(licence.get_absolute_url()).content.decode()
    assert "5 tUSDC" in page
    lines = JournalLine.objects.filter(entry__tx_hash=receipt.transactionHash.to_0x_hex())
    assert {line.currency for line in lines} == {"tUSDC"} and sum(int(line.amount) for line in lines) == 0

    market, token = contract(w3=chain, name=MARKET), stablecoin(w3=chain)
    share = FEE - FEE * settings.PLATFORM_FEE_BPS // 10_000
    assert market.functions.tokenBalanceOf(token.address, creator.address).call() == share
    client.force_login(creator.user)
    earnings = client.get("/earnings/").content.decode()
    assert f'data-testid="ai-total">{share / 10**6:g} tUSDC' in earnings and "Licence" in earnings
    assert 'data-testid="total-all">0 ETH' in earnings
    assert reconcile(w3=chain).ok

    def csv_lines(url):
        return b"".join(client.get(url).streaming_content).decode().splitlines()

    statement = csv_lines("/earnings/statement.csv?currency=tUSDC")
    assert statement[0].endswith("in tUSDC") and "your share (tUSDC)" in statement[1]
    assert statement[-1].split(",")[10:12] == [str(share), f"{share / 10**6:g}"]
    assert "in ETH" in csv_lines("/earnings/statement.csv")[0]


def test_an_offer_posted_without_the_new_fields_is_in_eth_with_no_ai_fetches(
    client, register, chain, creator
):
    """A form (or script) from before the currency and per-fetch fields still publishes."""
    work = register(creator, seed=791, w3=chain, title="Old form")
    client.force_login(creator.user)
    response = client.post(
        f"/works/{work.pk}/offers/new",
        {
            "preset": "commercial_use",
            "fee_eth": "0.01",
            "commercial_use": "on",
            "ai_training": "prohibited",
            "genai_training": "prohibited",
            "ai_model_scope": "model",
            "territory": "worldwide",
        },
    )
    assert response.status_code == 302
    terms = Offer.objects.get(work=work).terms.terms
    assert (terms.currency, terms.fee_wei, terms.ai_fetch) == ("ETH", 10**16, "prohibited")
