"""An organisation's invoice page pays through its wallet: the transaction the wallet returned is
followed (core/chain/wallet.py), a refused one says why and the invoice can be paid again, and
the Settled event pays it; nobody outside the organisation sees it."""

import json

import pytest
from django.conf import settings

from core.chain.models import WalletTransaction
from licensing import services as licensing
from licensing.terms import PRESETS
from licensing.tests.helpers import fund, index, mine, send_tx
from royalties.tests.factories import work_row
from training import services
from training.models import Invoice

pytestmark = [pytest.mark.django_db, pytest.mark.anvil]


@pytest.fixture
def invoice(org, creator):
    works = [work_row(creator.user, creator.address, title=f"Used {i}") for i in range(2)]
    for work in works:
        licensing.offer_create(work=work, terms=PRESETS["ai_training"][1], preset="ai_training")
    run, _ = services.run_report(org=org, run_id="run-1", model_name="Acme-1", work_ids=[w.pk for w in works])
    return Invoice.objects.get(run=run)


def _pay(client, w3, persona, url, *, value_delta=0):
    tx = client.get(url + "tx").json()["tx"]
    receipt = send_tx(
        w3, persona.account, {"to": tx["to"], "data": tx["data"], "value": int(tx["value"], 16) + value_delta}
    )
    reported = client.post(
        url + "submitted", json.dumps({"txHash": receipt.transactionHash.to_0x_hex()}), "application/json"
    )
    assert reported.status_code == 200, reported.content
    return receipt


def test_a_refused_invoice_payment_says_why_and_the_next_one_pays(client, chain, org, ai_company, invoice):
    fund(chain, ai_company.address)
    client.force_login(ai_company.user)
    url = f"/orgs/{org.slug}/invoices/{invoice.pk}/"
    assert 'data-testid="pay-invoice"' in client.get(url).content.decode()

    failed = _pay(client, chain, ai_company, url, value_delta=-1)
    assert failed.status == 0
    page = client.get(url + "status").content.decode()
    assert "refused by the contract" in page and 'data-testid="pay-invoice"' in page

    good = _pay(client, chain, ai_company, url)
    assert good.status == 1
    page = client.get(url + "status").content.decode()
    assert "Payment sent" in page and 'data-testid="pay-invoice"' not in page
    invoice.refresh_from_db()
    sent = WalletTransaction.objects.filter(kind="settlement", subject=invoice.settlement.settlement_id)
    assert list(sent.values_list("status", flat=True)) == ["reverted", "mined"]

    mine(chain, settings.CHAIN_CONFIRMATIONS)
    index(chain)
    assert "Paid" in client.get(url + "status").content.decode()
    assert list(sent.values_list("status", flat=True)) == ["reverted", "confirmed"]


def test_a_payment_reported_before_its_transaction_was_asked_for_is_refused(client, org, ai_company, invoice):
    client.force_login(ai_company.user)
    url = f"/orgs/{org.slug}/invoices/{invoice.pk}/"
    response = client.post(url + "submitted", json.dumps({"txHash": "0x" + "ab" * 32}), "application/json")
    assert response.status_code == 409 and "Pay with wallet" in response.json()["error"]
    assert not WalletTransaction.objects.exists()
