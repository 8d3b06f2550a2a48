"""AI training priced in the stablecoin, on a real anvil and through the API as an AI company
calls it: the manifest check says each price's currency, a quote is paid in one currency (works
priced in the other are refused with the reason), a stablecoin quote is paid with an approval and
one transaction and issues the licences, a run report with unlicensed works in both currencies
yields one invoice per currency, and the organisation's page pays the stablecoin invoice with one
permit signature; the ledger and the contract agree."""

import json
from dataclasses import replace

import pytest
from django.conf import settings as django_settings
from eth_account.messages import encode_typed_data

from core.chain.stablecoin import stablecoin
from licensing import services
from licensing.models import CatalogueEntry
from licensing.terms import PRESETS
from licensing.tests.helpers import fund, index, mine, mint_stablecoin, send_tx
from royalties.models import JournalLine, LedgerAccount
from royalties.reconciliation import reconcile
from royalties.tests.factories import work_row
from training.models import Invoice, TrainingLicence, TrainingRunWork

pytestmark = pytest.mark.anvil
API = "/api/v1"
ETH_PRICE = 5 * 10**15  # the ai_training preset's
TOKEN_PRICE = 3_000_000  # 3 tUSDC
TOKEN_TERMS = replace(
    PRESETS["ai_training"][1],
    currency="tUSDC",
    fee_wei=20_000_000,
    ai_training_price_wei=TOKEN_PRICE,
    genai_training_price_wei=5_000_000,
)


def _post(client, key, path, body):
    return client.post(
        API + path, data=json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )


def _get(client, key, path):
    return client.get(API + path, HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.fixture
def works(chain, creator):
    """Two works priced for AI training in ETH, two in the stablecoin, one priced in both (its
    ETH offer is the one an AI company is quoted)."""
    made = {}
    for name, terms in (
        ("eth", None),
        ("eth2", None),
        ("usd", TOKEN_TERMS),
        ("usd2", TOKEN_TERMS),
        ("both", None),
    ):
        work = work_row(creator.user, creator.address, title=name)
        services.offer_create(work=work, terms=terms or PRESETS["ai_training"][1], preset="ai_training")
        made[name] = work
    services.offer_create(work=made["both"], terms=TOKEN_TERMS, preset="")
    return made


def test_prices_in_the_stablecoin_are_checked_quoted_paid_and_licensed_in_it(
    chain, works, client, api_key, org, ai_company, creator
):
    w3 = chain
    key = api_key("read", "license")
    fund(w3, ai_company.address)
    token = mint_stablecoin(w3, ai_company.address, 10 * TOKEN_PRICE)
    entry = CatalogueEntry.objects.get(work=works["usd"])
    assert (entry.ai_training, int(entry.ai_price_wei), entry.ai_currency) == ("paid", TOKEN_PRICE, "tUSDC")
    both = CatalogueEntry.objects.get(work=works["both"])
    assert (int(both.ai_price_wei), both.ai_currency) == (
        ETH_PRICE,
        "ETH",
    )  # never compared across currencies

    items = [{"ref": name, "sha256": work.sha256} for name, work in works.items()]
    check = _post(client, key, "/manifest-checks", {"items": items}).json()
    terms = {r["ref"]: r["terms"]["training"] for r in check["results"]}
    assert (terms["usd"]["price_wei"], terms["usd"]["currency"]) == (str(TOKEN_PRICE), "tUSDC")
    assert (terms["eth"]["price_wei"], terms["eth"]["currency"]) == (str(ETH_PRICE), "ETH")
    ids = [w.pk for w in works.values()]

    # by default ETH (some works are priced in it); the others are refused, saying how to buy them
    quote = _post(
        client, key, "/training-quotes", {"purpose": "training", "model_name": "M", "work_ids": ids}
    )
    quote = quote.json()
    assert quote["currency"] == "ETH" and int(quote["total_wei"]) == 3 * ETH_PRICE
    lines = {line["work_id"]: line for line in quote["lines"]}
    assert lines[works["usd"].pk]["status"] == "refused"
    reason = lines[works["usd"].pk]["reason"]
    assert reason == "Priced in tUSDC: quote it separately, in tUSDC (the API's `currency`)."
    assert quote["transaction"]["approval"] is None

    bad = _post(client, key, "/training-quotes", {"purpose": "training", "model_name": "M", "work_ids": ids,
                                                   "currency": "DAI"})  # fmt: skip
    assert bad.status_code == 400 and "currency" in json.dumps(bad.json()), bad.content
    body = {"purpose": "training", "model_name": "M", "work_ids": [works["eth"].pk], "currency": "tUSDC"}
    only_eth = _post(client, key, "/training-quotes", body).json()
    assert (only_eth["status"], only_eth["currency"]) == ("nothing_to_pay", "tUSDC")
    assert only_eth["total_wei"] == "0"
    assert only_eth["lines"][0]["reason"].startswith("Priced in ETH")

    quote = _post(
        client,
        key,
        "/training-quotes",
        {"purpose": "training", "model_name": "M", "work_ids": ids, "currency": "tUSDC"},
    ).json()
    assert quote["currency"] == "tUSDC" and int(quote["total_wei"]) == 2 * TOKEN_PRICE
    assert {line["work_id"] for line in quote["lines"] if line["status"] == "quoted"} == {
        works["usd"].pk,
        works["usd2"].pk,
    }
    assert {line["reason"] for line in quote["lines"] if line["status"] == "refused"} == {
        "Priced in ETH: quote it separately, in ETH (the API's `currency`)."
    }
    tx = quote["transaction"]
    assert tx["value"] == "0x0" and tx["approval"]["to"] == token.address
    assert (
        send_tx(w3, ai_company.account, {"to": tx["approval"]["to"], "data": tx["approval"]["data"]}).status
        == 1
    )
    assert send_tx(w3, ai_company.account, {"to": tx["to"], "data": tx["data"], "value": 0}).status == 1
    mine(w3, django_settings.CHAIN_CONFIRMATIONS)
    index(w3)

    licences = TrainingLicence.objects.filter(org=org, status="valid")
    assert {lic.work_id for lic in licences} == {works["usd"].pk, works["usd2"].pk}
    listed = _get(client, key, "/licences").json()
    assert {(row["price_wei"], row["currency"]) for row in listed} == {(str(TOKEN_PRICE), "tUSDC")}
    assert token.functions.balanceOf(ai_company.address).call() == 8 * TOKEN_PRICE
    assert not JournalLine.objects.filter(currency="ETH").exists()  # nothing posted in ether
    assert reconcile(w3=w3).ok

    # the creator's licences page shows what AI companies paid, in the currency they paid
    client.force_login(creator.user)
    assert "3 tUSDC" in client.get("/licences/").content.decode()


def test_a_run_is_invoiced_once_per_currency_and_the_stablecoin_invoice_is_paid_with_one_permit(
    chain, works, client, api_key, org, ai_company, creator
):
    w3 = chain
    key = api_key("read", "license", "report")
    fund(w3, ai_company.address)
    mint_stablecoin(w3, ai_company.address, 10 * TOKEN_PRICE)
    body = {"run_id": "r1", "model_name": "M", "works": {"ids": [w.pk for w in works.values()]}}
    response = _post(client, key, "/runs", body)
    assert response.status_code == 201, response.content
    run = response.json()
    invoices = {i["currency"]: i for i in run["invoices"]}
    assert set(invoices) == {"ETH", "tUSDC"}
    assert invoices["ETH"]["total_wei"] == str(3 * ETH_PRICE) and len(invoices["ETH"]["lines"]) == 3
    assert invoices["tUSDC"]["total_wei"] == str(2 * TOKEN_PRICE)
    assert {line["work_id"] for line in invoices["tUSDC"]["lines"]} == {works["usd"].pk, works["usd2"].pk}
    assert {(w["price_wei"], w["currency"]) for w in run["works"] if w["work_id"] == works["usd"].pk} == {
        (str(TOKEN_PRICE), "tUSDC")
    }

    # the organisation's page: the member with the paying wallet pays it in the browser's way
    invoice = Invoice.objects.get(pk=invoices["tUSDC"]["id"])
    client.force_login(ai_company.user)
    url = f"/orgs/{org.slug}/invoices/{invoice.pk}/"
    page = client.get(url).content.decode()
    assert "6 tUSDC" in page and "3 tUSDC" in page
    assert "0.015 ETH" in client.get(f"/orgs/{org.slug}/invoices/{invoices['ETH']['id']}/").content.decode()
    prepared = client.get(url + "tx").json()
    assert "tx" not in prepared and prepared["permit"]["message"]["value"] == 2 * TOKEN_PRICE
    bad = client.post(prepared["permitUrl"], {"signature": "0x12"}, content_type="application/json")
    assert bad.status_code == 400 and "65-byte" in bad.json()["error"]
    signature = ai_company.account.sign_message(encode_typed_data(full_message=prepared["permit"])).signature
    tx = client.post(
        prepared["permitUrl"],
        {"signature": "0x" + signature.hex().removeprefix("0x")},
        content_type="application/json",
    ).json()["tx"]
    assert tx["value"] == "0x0" and "approval" not in tx
    receipt = send_tx(w3, ai_company.account, tx)
    assert receipt.status == 1
    client.post(
        url + "submitted", {"txHash": receipt.transactionHash.to_0x_hex()}, content_type="application/json"
    )
    mine(w3, django_settings.CHAIN_CONFIRMATIONS)
    index(w3)

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert Invoice.objects.get(pk=invoices["ETH"]["id"]).status == Invoice.Status.OPEN  # untouched
    statuses = dict(TrainingRunWork.objects.filter(run__run_id="r1").values_list("work__title", "status"))
    assert statuses == {
        "usd": "paid",
        "usd2": "paid",
        "eth": "invoiced",
        "eth2": "invoiced",
        "both": "invoiced",
    }
    assert stablecoin(w3=w3).functions.balanceOf(ai_company.address).call() == 8 * TOKEN_PRICE
    allocated = LedgerAccount.objects.filter(kind=LedgerAccount.Kind.ALLOCATED)
    assert {a.currency for a in allocated} == {"tUSDC"}
    assert reconcile(w3=w3).ok

    # the creator sees the paid run on the work, in the currency paid
    client.force_login(creator.user)
    share = TOKEN_PRICE - TOKEN_PRICE * django_settings.PLATFORM_FEE_BPS // 10_000
    detail = client.get(works["usd"].get_absolute_url()).content.decode()
    assert f"{share / 10**6:g} tUSDC" in detail


def test_catalogue_refresh_gives_old_rows_their_stablecoin_price(works, api_key, client):
    """A row written before the catalogue kept currencies read a tUSDC-only paid work as
    prohibited; `manage.py catalogue_refresh` recomputes it from the offers."""
    from io import StringIO

    from django.core.management import call_command

    CatalogueEntry.objects.filter(work=works["usd"]).update(ai_training="prohibited", ai_price_wei=0)
    out = StringIO()
    call_command("catalogue_refresh", stdout=out)
    assert "5 works refreshed, 1 rows changed." in out.getvalue()
    entry = CatalogueEntry.objects.get(work=works["usd"])
    assert (entry.ai_training, int(entry.ai_price_wei), entry.ai_currency) == ("paid", TOKEN_PRICE, "tUSDC")
    terms = _get(client, api_key("read"), f"/works/{works['usd'].pk}/terms").json()["training"]
    assert (terms["status"], terms["price_wei"], terms["currency"]) == ("paid", str(TOKEN_PRICE), "tUSDC")
