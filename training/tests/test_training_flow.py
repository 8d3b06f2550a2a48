"""End to end on anvil, through the API as an AI company would call it: a manifest of 2,000
works from 300 creators (some with co-creators, one derived from an upstream work) is checked,
quoted and paid in ONE transaction; the creator, the co-creator and the upstream creator claim
and withdraw with the earnings page's Withdraw; the ledger and the contract agree; a run report
with unlicensed and prohibited works yields the invoice (paid the same way) and the violations."""

import json

import pytest
from django.conf import settings as django_settings

from core.chain.contracts import MARKET, contract
from core.models import Notification
from licensing import services
from licensing.terms import PRESETS
from licensing.tests.helpers import fund, index, mine, send_tx
from royalties.models import JournalEntry, LedgerAccount, SettlementAllocation
from royalties.reconciliation import reconcile
from royalties.services import withdrawal_transaction
from royalties.tests.factories import licence_row, sheet_row, user_row, work_row
from training.models import TrainingLicence
from works.models import DerivationLink

API = "/api/v1"
WORKS, CREATORS = 2000, 300
PRICE = 5 * 10**15  # the ai_training preset's price


def _post(client, key, path, body):
    return client.post(
        API + path, data=json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )


def _offer(work, preset):
    services.offer_create(work=work, terms=PRESETS[preset][1], preset=preset)


@pytest.fixture
def registry(chain, django_user_model, creator, co_creator, upstream_creator):
    """2,000 paid-for-training works by 300 creators (the creator persona among them); 40 with
    the co-creator on a 20% sheet; one derived from the upstream creator's work at 10%."""
    owners = [(creator.user, creator.address)] + [user_row(django_user_model) for _ in range(CREATORS - 1)]
    works = []
    for i in range(WORKS):
        user, address = owners[i % CREATORS]
        work = work_row(user, address, title=f"work {i}")
        _offer(work, "ai_training")
        works.append(work)
    for work in works[:40]:
        sheet_row(work, [(co_creator.address, 2000, "illustrator")])
    upstream = work_row(upstream_creator.user, upstream_creator.address, title="Upstream")
    licence = licence_row(upstream, creator.user, creator.address, share_bps=1000)
    derived = works[0]  # the creator's, with the co-creator too
    DerivationLink.objects.create(child=derived, parent=upstream, licence=licence, share_bps=1000)
    return works


def test_two_thousand_works_licensed_in_one_transaction_and_every_party_paid(
    chain, registry, client, api_key, org, ai_company, creator, co_creator, upstream_creator, settings
):
    w3 = chain
    settings.PLATFORM_FEE_BPS = 500
    key = api_key("read", "license", "report")
    for persona in (ai_company, creator, co_creator, upstream_creator):
        fund(w3, persona.address, eth=1000)
    market = contract(w3=w3, name=MARKET)

    # 1. check the manifest
    items = [{"ref": f"shard-0/{i}", "sha256": w.sha256} for i, w in enumerate(registry)]
    check = _post(client, key, "/manifest-checks", {"items": items})
    assert check.status_code == 200, check.content
    check = check.json()
    assert check["items"] == WORKS and check["matched"] == WORKS
    assert {r["terms"]["training"]["status"] for r in check["results"]} == {"paid"}

    # 2. one quote for all of it
    quote = _post(
        client,
        key,
        "/training-quotes",
        {"purpose": "training", "model_name": "Acme-1", "manifest_check_id": check["id"]},
    )
    assert quote.status_code == 200, quote.content
    quote = quote.json()
    assert len(quote["lines"]) == WORKS and {line["status"] for line in quote["lines"]} == {"quoted"}
    assert int(quote["total_wei"]) == WORKS * PRICE
    tx = quote["transaction"]
    assert tx["sender"] == ai_company.address

    # 3. paid in ONE transaction
    block_before = w3.eth.block_number
    receipt = send_tx(w3, ai_company.account, {"to": tx["to"], "data": tx["data"], "value": tx["value"]})
    assert receipt.status == 1
    assert receipt.gasUsed < 200_000, receipt.gasUsed  # a root is stored, not 2,000 credits
    sent = sum(
        len(
            [
                t
                for t in w3.eth.get_block(n, full_transactions=True)["transactions"]
                if t["from"] == ai_company.address
            ]
        )
        for n in range(block_before + 1, w3.eth.block_number + 1)
    )
    assert sent == 1
    mine(w3, django_settings.CHAIN_CONFIRMATIONS)
    index(w3)
    assert TrainingLicence.objects.filter(org=org, status="valid").count() == WORKS
    assert market.functions.totalUnclaimed().call() == WORKS * PRICE

    # every line of the split is in the ledger at payment time, to the wei
    allocated = {
        a.address: int(sum(int(line.amount) for line in a.lines.all()))
        for a in LedgerAccount.objects.filter(kind=LedgerAccount.Kind.ALLOCATED).prefetch_related("lines")
    }
    assert sum(allocated.values()) == WORKS * PRICE
    fee = PRICE * 500 // 10_000
    net = PRICE - fee
    upstream_share = net * 1000 // 10_000
    co_share_each = net * 2000 // 10_000
    co_share_derived = (net - upstream_share) * 2000 // 10_000
    assert allocated[upstream_creator.address] == upstream_share
    assert allocated[co_creator.address] == 39 * co_share_each + co_share_derived
    creator_works = range(0, WORKS, CREATORS)  # the creator persona owns every 300th work
    creator_due = sum(
        (net - upstream_share - co_share_derived) if i == 0 else (net - co_share_each if i < 40 else net)
        for i in creator_works
    )
    assert allocated[creator.address] == creator_due

    # 4. three payees claim and withdraw with one Withdraw each
    for persona in (creator, co_creator, upstream_creator):
        before = w3.eth.get_balance(persona.address)
        prepared = withdrawal_transaction(address=persona.address, w3=w3)
        assert prepared is not None
        wtx, amount, claims = prepared
        assert claims == 1 and amount == allocated[persona.address]
        receipt = send_tx(w3, persona.account, {"to": wtx["to"], "data": wtx["data"], "value": 0})
        assert receipt.status == 1
        cost = receipt.gasUsed * receipt.effectiveGasPrice
        assert w3.eth.get_balance(persona.address) == before + amount - cost
        assert withdrawal_transaction(address=persona.address, w3=w3) is None or persona is creator
    mine(w3, django_settings.CHAIN_CONFIRMATIONS)
    index(w3)
    claimed = SettlementAllocation.objects.filter(claimed_at__isnull=False)
    assert set(claimed.values_list("payee", flat=True)) == {
        creator.address,
        co_creator.address,
        upstream_creator.address,
    }
    assert JournalEntry.objects.filter(kind=JournalEntry.Kind.CLAIM).count() == 3

    # 5. the ledger and the contract agree
    run = reconcile(w3=w3)
    assert run.ok and run.checked > 0, run.mismatches
    claimed_total = sum(allocated[p.address] for p in (creator, co_creator, upstream_creator))
    assert market.functions.totalUnclaimed().call() == WORKS * PRICE - claimed_total

    # 6. a creator withdraws consent: no new licence for that work, the one sold stays valid
    withdrawn = registry[1]
    services.offer_withdraw(offer=withdrawn.offers.get())
    refused = _post(
        client,
        key,
        "/training-quotes",
        {"purpose": "generative_training", "model_name": "Acme-2", "work_ids": [withdrawn.pk]},
    ).json()
    assert refused["lines"] == [
        {
            "work_id": withdrawn.pk,
            "status": "refused",
            "price_wei": "0",
            "reason": "This work is not offered for licensing (all rights reserved).",
        }
    ]
    assert refused["settlement_id"] is None and refused["transaction"] is None
    assert TrainingLicence.objects.get(org=org, work=withdrawn).status == "valid"

    # 7. a run report: 100 licensed works (the withdrawn one among them), 5 unlicensed paid,
    # 2 prohibited, 2 free
    extra_paid = [work_row(creator.user, creator.address, title=f"new {i}") for i in range(5)]
    prohibited = [work_row(creator.user, creator.address, title=f"no AI {i}") for i in range(2)]
    free = [work_row(upstream_creator.user, upstream_creator.address, title=f"free {i}") for i in range(2)]
    for work in extra_paid:
        _offer(work, "ai_training")
    for work in prohibited:
        _offer(work, "commercial_use")
    for work in free:
        _offer(work, "cc_by")
    used = [w.pk for w in registry[:100] + extra_paid + prohibited + free]
    report = _post(
        client,
        key,
        "/runs",
        {"run_id": "run-7", "model_name": "Acme-1", "model_version": "7", "works": {"ids": used}},
    )
    assert report.status_code == 201, report.content
    report = report.json()
    assert report["counts"] == {"licensed": 100, "invoiced": 5, "paid": 0, "violation": 2, "free": 2}
    invoice = report["invoice"]
    assert int(invoice["total_wei"]) == 5 * PRICE and len(invoice["lines"]) == 5
    violations = {w["work_id"] for w in report["works"] if w["status"] == "violation"}
    assert violations == {w.pk for w in prohibited}
    assert Notification.objects.filter(user=creator.user, kind="training_violation").count() >= 1
    again = _post(client, key, "/runs", {"run_id": "run-7", "model_name": "Acme-1", "works": {"ids": used}})
    assert again.status_code == 200 and again.json()["invoice"]["id"] == invoice["id"]

    # 8. the invoice is paid in one transaction too; its works become licensed
    payment = _post(client, key, f"/invoices/{invoice['id']}/payment", {})
    assert payment.status_code == 200, payment.content
    ptx = payment.json()["transaction"]
    receipt = send_tx(w3, ai_company.account, {"to": ptx["to"], "data": ptx["data"], "value": ptx["value"]})
    assert receipt.status == 1
    mine(w3, django_settings.CHAIN_CONFIRMATIONS)
    index(w3)
    paid = client.get(f"{API}/invoices/{invoice['id']}", HTTP_AUTHORIZATION=f"Bearer {key}").json()
    assert paid["status"] == "paid"
    counts = client.get(f"{API}/runs/{report['id']}", HTTP_AUTHORIZATION=f"Bearer {key}").json()["counts"]
    assert counts["invoiced"] == 0 and counts["paid"] == 5
    assert reconcile(w3=w3).ok


@pytest.mark.anvil
def test_a_training_licence_covers_the_models_its_terms_say_and_keeps_the_terms_it_was_sold_under(
    chain, client, api_key, org, ai_company, creator
):
    """Quoted for model "m-1": under the default terms that is m-1 (every version) and not m-2;
    terms changed between quote and payment do not change what was sold."""
    from dataclasses import replace

    w3 = chain
    key = api_key("read", "license", "report")
    fund(w3, ai_company.address, eth=10)
    model_only = work_row(creator.user, creator.address, title="Model only")
    family = work_row(creator.user, creator.address, title="Family")
    _offer(model_only, "ai_training")
    family_terms = replace(PRESETS["ai_training"][1], ai_model_scope="family", duration_days=30)
    services.offer_create(work=family, terms=family_terms, title="Family licence")
    quote = _post(
        client,
        key,
        "/training-quotes",
        {"purpose": "training", "model_name": "m-1", "work_ids": [model_only.pk, family.pk]},
    ).json()
    # the creator changes the family work's terms after the quote: longer, dearer, any model
    offer = family.offers.get(status="active")
    services.offer_withdraw(offer=offer)
    services.offer_create(
        work=family,
        terms=replace(
            family_terms, ai_model_scope="organisation", duration_days=None, ai_training_price_wei=1
        ),
        title="Changed",
    )
    tx = quote["transaction"]
    assert send_tx(w3, ai_company.account, {"to": tx["to"], "data": tx["data"], "value": tx["value"]}).status
    mine(w3, django_settings.CHAIN_CONFIRMATIONS)
    index(w3)
    sold = {lic.work_id: lic for lic in TrainingLicence.objects.filter(org=org)}
    assert sold[model_only.pk].model_scope == "model" and sold[family.pk].model_scope == "family"
    assert sold[family.pk].terms.terms_hash == family_terms.hash()  # the terms quoted, not the new ones
    assert sold[family.pk].expires_at is not None  # 30 days, as sold
    licences = client.get(f"{API}/licences", HTTP_AUTHORIZATION=f"Bearer {key}").json()
    assert {lic["grants"] for lic in licences} == {
        "the model “m-1”, every version of it",
        "the model family “m-1”: that model and models whose name extends it",
    }

    def run(run_id, model):
        body = {"run_id": run_id, "model_name": model, "works": {"ids": [model_only.pk, family.pk]}}
        return {w["work_id"]: w["status"] for w in _post(client, key, "/runs", body).json()["works"]}

    assert run("a", "M-1 ") == {model_only.pk: "licensed", family.pk: "licensed"}
    assert run("b", "m-1-large") == {model_only.pk: "invoiced", family.pk: "licensed"}
    assert run("c", "m-2") == {model_only.pk: "invoiced", family.pk: "invoiced"}
    check = _post(
        client, key, "/manifest-checks", {"items": [{"sha256": model_only.sha256}], "model_name": "m-2"}
    ).json()
    assert check["results"][0]["terms"]["training"]["licensed"] is False
    again = _post(
        client,
        key,
        "/training-quotes",
        {"purpose": "training", "model_name": "m-2", "work_ids": [model_only.pk]},
    ).json()
    assert again["lines"][0]["status"] == "quoted"  # m-2 needs its own licence
