"""Improper registration, end to end on anvil: a creator registered another artist's picture; the
artist files a dispute with their own copy as evidence; sales pause and the training invoice paid
meanwhile goes to escrow, line by line, to the wei; the moderator upholds and revokes; the
revocation is anchored and every verifier says revoked; the escrow goes to the rightful creator.
And the other way: a rejected dispute releases the escrow to the payees it was held for."""

import json

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from core.chain.contracts import MARKET, contract
from core.chain.reverts import revert_error
from core.chain.sender import sender_context
from core.models import Notification
from disputes import services
from disputes.flows import decision as decisions
from disputes.flows import escrow, filing
from disputes.models import Dispute, DisputeEvent, EscrowRelease, Evidence
from licensing import services as licensing
from licensing.models import CatalogueEntry, Offer, Quote
from licensing.services import LicensingError
from licensing.terms import PRESETS
from licensing.tests.helpers import fund, index, mine, send_tx
from royalties.models import LedgerAccount, Settlement, SettlementLine
from royalties.reconciliation import reconcile
from royalties.settlement import ESCROW_ADDRESS, settlement_transaction
from royalties.tests.factories import sheet_row, work_row
from tests.fixtures.images import make_image, upload_file
from training import services as training
from training.models import Invoice
from works import anchoring
from works.models import FingerprintChange, Registration, Revocation
from works.selectors import provenance_document
from works.verification import provenance_check

pytestmark = pytest.mark.usefixtures("reply_window_over")

SEED = 4242
AI_PRICE = 5 * 10**15  # the ai_training preset


def _allocated(address) -> int:
    account = LedgerAccount.objects.filter(kind=LedgerAccount.Kind.ALLOCATED, address=address).first()
    return int(sum(int(line.amount) for line in account.lines.all())) if account else 0


def _credited(address) -> int:
    account = LedgerAccount.objects.filter(kind=LedgerAccount.Kind.CREDITED, address=address).first()
    return int(sum(int(line.amount) for line in account.lines.all())) if account else 0


def _anchor_everything(w3):
    ctx = sender_context(w3=w3)
    anchoring.anchor_tick(ctx=ctx, now=_later())
    mine(w3, django_settings.CHAIN_CONFIRMATIONS)
    anchoring.anchor_tick(ctx=ctx)


def _later():
    from datetime import timedelta

    from django.utils import timezone

    return timezone.now() + timedelta(hours=1)


@pytest.fixture
def stolen(chain, creator, co_creator, upstream_creator, org, ai_company, settings):
    """The creator registered (and anchored) a picture the upstream creator ("the artist")
    registered before; both AI training and buyer licences are on offer; a co-creator holds 20 %;
    Acme reported a training run on it, and its invoice is waiting for payment."""
    settings.PLATFORM_FEE_BPS = 500
    upstream_creator.user.email = "artist@example.org"
    upstream_creator.user.save()
    from tests.fixtures.chain import register_work

    work = register_work(creator, seed=SEED, w3=chain, title="Harbour at dusk")
    _anchor_everything(chain)
    work.registration.refresh_from_db()
    assert work.registration.status == Registration.Status.CONFIRMED
    # The artist's own registration of the same picture (a row: it predates the creator's).
    rightful = work_row(upstream_creator.user, upstream_creator.address, title="Harbour, original")
    type(rightful).objects.filter(pk=rightful.pk).update(sha256=work.sha256, pdq=work.pdq)
    rightful.refresh_from_db()
    licensing.offer_create(work=work, terms=PRESETS["ai_training"][1], preset="ai_training")
    licensing.offer_create(work=work, terms=PRESETS["commercial_use"][1], preset="commercial_use")
    sheet_row(work, [(co_creator.address, 2000, "illustrator")])
    run, _ = training.run_report(org=org, run_id="run-1", model_name="Acme-1", work_ids=[work.pk])
    invoice = Invoice.objects.get(run=run)
    old = training.invoice_payment(invoice=invoice, buyer_address=ai_company.address)
    for persona in (ai_company, creator, co_creator, upstream_creator):
        fund(chain, persona.address, eth=100)
    return work, rightful, invoice, old


def _file(artist, work, **extra):
    return filing.dispute_file(
        user=artist.user,
        work=work,
        kind=Dispute.Kind.REGISTRATION,
        statement="I painted this harbour in 2019; this account copied my file and registered it.",
        files=[upload_file(make_image(seed=SEED), name="my-harbour.jpg")],
        urls=[("https://artist.example.org/2019/harbour", None, "my portfolio")],
        **extra,
    )


def _pay_invoice(w3, invoice, ai_company) -> Settlement:
    settlement = training.invoice_payment(invoice=invoice, buyer_address=ai_company.address)
    tx = settlement_transaction(settlement=settlement, w3=w3)
    receipt = send_tx(w3, ai_company.account, {"to": tx["to"], "data": tx["data"], "value": tx["value"]})
    assert receipt.status == 1
    mine(w3, django_settings.CHAIN_CONFIRMATIONS)
    index(w3)
    settlement.refresh_from_db()
    assert settlement.status == Settlement.Status.PAID
    return settlement


def test_upheld_dispute_revokes_anchors_the_revocation_and_sends_the_escrow_to_the_rightful_creator(
    chain,
    stolen,
    creator,
    co_creator,
    upstream_creator,
    buyer,
    org,
    ai_company,
    moderator,
    client,
    capsys,
    api_key,
):
    work, rightful, invoice, old_settlement = stolen
    w3 = chain
    offer = Offer.objects.get(work=work, terms__preset="commercial_use")
    early = licensing.quote_create(offer=offer, buyer=buyer.user, buyer_address=buyer.address, w3=w3)
    early_tx = licensing.quote_transaction(quote=early, w3=w3)  # in the buyer's wallet already
    old_tx = settlement_transaction(settlement=old_settlement, w3=w3)  # in Acme's wallet already
    mail.outbox.clear()

    # Filing: the artist's own copy is the same file, distance 0, and their registration is found.
    dispute = _file(upstream_creator, work)
    file_evidence = dispute.evidence.get(kind=Evidence.Kind.FILE)
    assert file_evidence.sha256 == work.sha256 and file_evidence.same_file
    assert file_evidence.pdq_distance == 0
    assert file_evidence.own_work_id == rightful.pk and dispute.rightful_work_id == rightful.pk
    assert dispute.evidence.get(kind=Evidence.Kind.URL).url == "https://artist.example.org/2019/harbour"
    assert Notification.objects.filter(user=creator.user, kind="dispute").count() == 1
    assert Notification.objects.filter(user=upstream_creator.user, kind="dispute").count() == 1
    assert [m.to for m in mail.outbox] == [["artist@example.org"]]  # the one party with an address

    # While open: sales paused everywhere, and the open quote and invoice settlement are closed.
    early.refresh_from_db()
    assert early.status == Quote.Status.EXPIRED
    with pytest.raises(LicensingError) as refused:
        licensing.quote_create(offer=offer, buyer=buyer.user, buyer_address=buyer.address, w3=w3)
    assert refused.value.code == "in_dispute" and "in dispute" in refused.value.message
    old_settlement.refresh_from_db()
    assert old_settlement.status == Settlement.Status.EXPIRED
    # ...and on chain: the work's sales are paused, which also makes every settlement signed
    # before the dispute stale, so what the wallets already hold cannot be paid either.
    assert escrow.sales_pauses_send(ctx=sender_context(w3=w3)) == 1
    assert escrow.sales_pauses_send(ctx=sender_context(w3=w3)) == 0  # once
    market = contract(w3=w3, name=MARKET)
    assert market.functions.workPaused(work.pk).call()
    for wallet, tx, error in ((buyer, early_tx, "SalesPaused"), (ai_company, old_tx, "StaleSettlement")):
        fund(w3, wallet.address)
        receipt = send_tx(w3, wallet.account, tx)
        assert receipt.status == 0
        assert revert_error(w3, receipt.transactionHash, contract_name=MARKET) == error
    page = client.get(work.get_absolute_url()).content.decode()
    assert 'data-testid="work-in-dispute"' in page and 'data-testid="sales-paused"' in page
    assert 'data-testid="in-dispute"' in client.get("/catalogue").content.decode()
    _, lines = training.training_quote(
        org=org, purpose="training", model_name="Acme-2", buyer_address=ai_company.address, work_ids=[work.pk]
    )
    assert lines[0].status == "refused" and "in dispute" in lines[0].reason
    checked = client.post(
        "/api/v1/manifest-checks",
        data=json.dumps({"items": [{"ref": "a", "sha256": work.sha256}]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api_key('read')}",
    )
    assert checked.status_code == 200, checked.content
    result = checked.json()["results"][0]
    assert result["in_dispute"] is True and result["exclude"] is True

    # The invoice is paid during the dispute: the owner's and co-creator's shares go to escrow,
    # each on a leaf of its own; the platform fee is paid as usual.
    settlement = _pay_invoice(w3, invoice, ai_company)
    fee = AI_PRICE * 500 // 10_000
    net = AI_PRICE - fee
    lines = {line.role: line for line in SettlementLine.objects.filter(settlement=settlement)}
    escrowed = [line for line in lines.values() if line.escrowed]
    assert {line.beneficiary for line in escrowed} == {creator.address, co_creator.address}
    assert sorted(int(line.amount) for line in escrowed) == sorted(
        [net * 2000 // 10_000, net - net * 2000 // 10_000]
    )
    assert len({line.escrow_index for line in escrowed}) == 2
    assert _allocated(ESCROW_ADDRESS) == net
    assert _allocated(creator.address) == 0 and _allocated(co_creator.address) == 0
    # nothing is released while the dispute is open
    assert escrow.escrow_releases_send(ctx=sender_context(w3=w3)) == 0

    # An outsider cannot decide; the moderator upholds and revokes.
    with pytest.raises(services.DisputeError):
        decisions.dispute_decide(dispute=dispute, moderator=buyer.user, decision="uphold", reason="x")
    decisions.dispute_decide(
        dispute=dispute,
        moderator=moderator,
        decision="uphold",
        reason="The artist's file and portfolio predate this registration.",
        revoke=True,
    )
    dispute.refresh_from_db()
    work.refresh_from_db()
    assert dispute.status == Dispute.Status.UPHELD and dispute.revoked
    assert work.registration.status == Registration.Status.REVOKED
    assert not work.is_public and work.is_revoked
    assert not Offer.objects.active().filter(work=work).exists()
    assert not CatalogueEntry.objects.filter(work=work).exists()
    assert FingerprintChange.objects.filter(work=work).order_by("pk").last().added is False
    # The quote signed before the dispute cannot be paid on chain any more either.
    assert licensing.offer_revocations_send(ctx=sender_context(w3=w3)) == 1
    market = contract(w3=w3, name=MARKET)
    assert market.functions.offerRevoked(offer.chain_key).call()
    mine(w3, django_settings.CHAIN_CONFIRMATIONS)
    fund(w3, buyer.address)
    assert send_tx(w3, buyer.account, early_tx).status == 0  # reverts OfferWithdrawn
    with pytest.raises(services.DisputeError):  # decided once
        decisions.dispute_decide(dispute=dispute, moderator=moderator, decision="reject", reason="again")

    # The revocation is anchored in the next batch, and every verifier says revoked.
    revocation = Revocation.objects.get(work=work)
    assert revocation.status == Revocation.Status.PENDING
    _anchor_everything(w3)
    revocation.refresh_from_db()
    assert revocation.status == Revocation.Status.CONFIRMED and revocation.batch.block_timestamp
    assert revocation.batch_id != work.registration.batch_id
    document = provenance_document(work=work)
    assert document["status"] == "revoked" and document["revocation"]["root"] == revocation.batch.root
    check = provenance_check(document, w3=w3)
    assert check.revoked and check.revocation_anchored is True and not check.ok
    assert check.signature_ok and check.proof_ok and check.onchain_ok  # the original claim still checks
    as_json = client.get(f"/works/{work.pk}/provenance.json").json()
    assert as_json["revocation"]["signer"] == revocation.signer
    verify = client.post("/verify", {"sha256": work.sha256}).content.decode()
    assert "Revoked" in verify
    path = f"{django_settings.MEDIA_ROOT}/check.jpg"
    with open(path, "wb") as handle:
        handle.write(make_image(seed=SEED))
    with pytest.raises(CommandError, match="Revoked"):
        call_command("verify_provenance", path)
    assert "REVOKED" in capsys.readouterr().out
    assert 'data-testid="revoked"' in client.get(work.get_absolute_url()).content.decode()
    assert decisions.revocations_anchored_note() == 1
    # The anchored, platform-signed revocation wrapped up as a registration document of the
    # platform's own: its typed data is a Revocation and its leaf a revocation leaf, so no.
    wrapped = {
        **document,
        "eip712": document["revocation"]["eip712"],
        "signature": document["revocation"]["signature"],
        "digest": document["revocation"]["digest"],
        "creator": document["revocation"]["signer"],
        "leaf": document["revocation"]["leaf"],
        "proof": document["revocation"]["proof"],
        "root": document["revocation"]["root"],
        "revocation": None,
    }
    forged = provenance_check(wrapped, w3=w3)
    assert not forged.ok and not forged.signature_ok and not forged.leaf_ok
    assert dispute.events.filter(action=DisputeEvent.Action.ANCHORED).count() == 1

    # The escrow goes to the rightful creator, line by line, on chain and in the ledger.
    assert escrow.escrow_releases_send(ctx=sender_context(w3=w3)) == 2
    assert escrow.escrow_releases_send(ctx=sender_context(w3=w3)) == 0  # never twice
    assert set(EscrowRelease.objects.values_list("to", flat=True)) == {upstream_creator.address}
    mine(w3, django_settings.CHAIN_CONFIRMATIONS)
    index(w3)
    market = contract(w3=w3, name=MARKET)
    assert market.functions.balanceOf(upstream_creator.address).call() == net
    assert set(EscrowRelease.objects.values_list("status", flat=True)) == {EscrowRelease.Status.DONE}
    assert _credited(upstream_creator.address) == net
    assert _allocated(ESCROW_ADDRESS) == 0
    assert _credited(creator.address) == 0 and _credited(co_creator.address) == 0
    assert reconcile(w3=w3).ok

    # Both parties read every step.
    actions = list(dispute.events.values_list("action", flat=True))
    assert actions[:1] == ["filed"] and {"upheld", "revoked", "anchored", "escrow"} <= set(actions)
    client.force_login(creator.user)
    timeline = client.get(dispute.get_absolute_url()).content.decode()
    assert "The artist&#x27;s file and portfolio predate this registration." in timeline


def test_rejected_dispute_resumes_sales_and_releases_the_escrow_to_its_payees(
    chain, stolen, creator, co_creator, upstream_creator, buyer, org, ai_company, moderator
):
    work, _, invoice, _ = stolen
    w3 = chain
    dispute = _file(upstream_creator, work)
    market = contract(w3=w3, name=MARKET)
    assert escrow.sales_pauses_send(ctx=sender_context(w3=w3)) == 1
    assert market.functions.workPaused(work.pk).call() is True
    settlement = _pay_invoice(w3, invoice, ai_company)  # signed in the dispute's epoch: payable
    held = {
        line.beneficiary: int(line.amount)
        for line in SettlementLine.objects.filter(settlement=settlement, escrowed=True)
    }
    decisions.dispute_decide(
        dispute=dispute,
        moderator=moderator,
        decision="reject",
        reason="The creator's sketches predate the claim.",
    )
    work.refresh_from_db()
    assert work.registration.status == Registration.Status.CONFIRMED and work.is_public
    assert not Revocation.objects.filter(work=work).exists()
    offer = Offer.objects.get(work=work, terms__preset="commercial_use")
    quote = licensing.quote_create(offer=offer, buyer=buyer.user, buyer_address=buyer.address, w3=w3)
    assert quote.status == Quote.Status.OPEN  # sales resumed
    assert escrow.sales_pauses_send(ctx=sender_context(w3=w3)) == 1  # resumed on chain too
    dispute.refresh_from_db()
    resume = dispute.chain_resume
    receipt = w3.eth.wait_for_transaction_receipt(resume.tx_hash, timeout=30)  # a busy anvil may lag
    assert receipt["status"] == 1 and receipt["to"] == market.address, (resume.nonce, dict(receipt))
    assert market.functions.workPaused(work.pk).call() is False

    assert escrow.escrow_releases_send(ctx=sender_context(w3=w3)) == 2
    mine(w3, django_settings.CHAIN_CONFIRMATIONS)
    index(w3)
    market = contract(w3=w3, name=MARKET)
    for address, amount in held.items():
        assert market.functions.balanceOf(address).call() == amount
        assert _credited(address) == amount
    assert _allocated(ESCROW_ADDRESS) == 0
    assert sum(held.values()) == AI_PRICE - AI_PRICE * 500 // 10_000
    assert reconcile(w3=w3).ok
    fund(w3, buyer.address)  # and the work sells on chain again
    assert send_tx(w3, buyer.account, licensing.quote_transaction(quote=quote, w3=w3)).status == 1


def test_uphold_without_revocation_keeps_the_registration_and_pays_the_escrow_out(
    chain, stolen, creator, upstream_creator, moderator
):
    work, _, _, _ = stolen
    dispute = _file(upstream_creator, work)
    decisions.dispute_decide(
        dispute=dispute, moderator=moderator, decision="uphold", reason="Credit the artist.", revoke=False
    )
    dispute.refresh_from_db()
    work.refresh_from_db()
    assert dispute.status == Dispute.Status.UPHELD and not dispute.revoked
    assert work.registration.status == Registration.Status.CONFIRMED
    assert not Revocation.objects.filter(work=work).exists()


def test_revoked_without_a_rightful_registration_the_escrow_goes_back_to_the_buyer(
    chain, stolen, creator, outsider, org, ai_company, moderator
):
    work, _, invoice, _ = stolen
    w3 = chain
    dispute = filing.dispute_file(
        user=outsider.user,
        work=work,
        kind=Dispute.Kind.REGISTRATION,
        statement="This is a film still from a studio; nobody here owns it.",
        urls=[("https://studio.example.org/stills/42", None, "")],
    )
    assert dispute.rightful_work is None
    settlement = _pay_invoice(w3, invoice, ai_company)
    held = sum(
        int(line.amount) for line in SettlementLine.objects.filter(settlement=settlement, escrowed=True)
    )
    decisions.dispute_decide(
        dispute=dispute, moderator=moderator, decision="uphold", reason="A studio's still.", revoke=True
    )
    assert escrow.escrow_releases_send(ctx=sender_context(w3=w3)) == 2
    mine(w3, django_settings.CHAIN_CONFIRMATIONS)
    index(w3)
    market = contract(w3=w3, name=MARKET)
    assert market.functions.balanceOf(ai_company.address).call() == held
    assert _credited(ai_company.address) == held and _allocated(ESCROW_ADDRESS) == 0
    assert reconcile(w3=w3).ok
