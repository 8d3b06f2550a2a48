"""Rows for unit tests that need works, licences and sheets but not files or a chain."""

import secrets
from dataclasses import replace

from django.utils import timezone
from eth_account import Account

from core.chain.models import ChainEvent
from licensing.models import Licence, Offer, Quote
from licensing.services import terms_get_or_create
from licensing.terms import Terms
from royalties.models import SplitParty, SplitSheet
from works.models import Registration, Work


def user_row(django_user_model):
    account = Account.create()
    return django_user_model.objects.create(username=account.address), account.address


def work_row(owner, address, *, title="Work", status="confirmed"):
    token = secrets.token_hex(8)
    work = Work.objects.create(
        owner=owner,
        creator_address=address,
        title=title,
        original=f"originals/{token}.jpg",
        original_name="a.jpg",
        mime="image/jpeg",
        width=10,
        height=10,
        size=100,
        preview=f"previews/{token}.jpg",
        thumbnail=f"thumbnails/{token}.jpg",
        sha256=secrets.token_hex(32),
        pdq=secrets.token_hex(32),
        pdq_quality=100,
    )
    Registration.objects.create(
        work=work,
        status=status,
        timestamp=0,
        signature="0x" + "11" * 65 if status != "awaiting_signature" else "",
    )
    return work


def licence_row(work, licensee, licensee_address, *, share_bps=0, approval=False):
    terms = replace(
        Terms(),
        derivatives_allowed=True,
        derivative_rev_share_bps=share_bps,
        derivatives_approval=approval,
        fee_wei=1,
    )
    row = terms_get_or_create(terms=terms)
    offer = Offer.objects.create(work=work, terms=row, title="Remix")
    quote = Quote.objects.create(
        quote_id="0x" + secrets.token_hex(32),
        offer=offer,
        buyer=licensee,
        buyer_address=licensee_address,
        price_wei=1,
        expiry=0,
        typed_data={},
        signature="0x",
        market_address="0x",
        chain_id=31337,
        status=Quote.Status.PAID,
    )
    event = ChainEvent.objects.create(
        chain_id=31337,
        tx_hash="0x" + secrets.token_hex(32),
        log_index=0,
        block_number=1,
        block_hash="0x",
        block_timestamp=timezone.now(),
        contract="0x",
        name="LicensePurchased",
        args={},
    )
    return Licence.objects.create(
        quote=quote,
        work=work,
        terms=row,
        licensee=licensee,
        licensee_address=licensee_address,
        price_wei=1,
        chain_event=event,
        tx_hash=event.tx_hash,
        block_number=1,
        issued_at=timezone.now(),
        certificate={},
        certificate_signature="0x",
    )


def sheet_row(work, parties, *, status=SplitSheet.Status.ACCEPTED, version=1):
    sheet = SplitSheet.objects.create(
        work=work,
        version=version,
        status=status,
        owner_address=work.creator_address,
        sheet_hash="0x" + secrets.token_hex(32),
        proposed_by=work.owner,
    )
    for address, bps, role in parties:
        SplitParty.objects.create(sheet=sheet, address=address, role=role, bps=bps)
    return sheet


def settlement_row(org, *, purpose="training_licence", model_name="m-1", price=1):
    from royalties.models import Settlement

    return Settlement.objects.create(
        settlement_id="0x" + secrets.token_hex(32),
        org=org,
        purpose=purpose,
        training_purpose="training",
        model_name=model_name,
        buyer_address="0x" + "ab" * 20,
        price_wei=price,
        root="0x" + "00" * 32,
        expiry=0,
        typed_data={},
        signature="0x",
        market_address="0x",
        chain_id=31337,
        tree={},
        status=Settlement.Status.PAID,
    )


def training_licence_row(org, work, *, model_name="m-1", scope="model", price=5):
    from licensing.terms import PRESETS
    from training.models import TrainingLicence

    return TrainingLicence.objects.create(
        org=org,
        work=work,
        purpose="training",
        terms=terms_get_or_create(terms=PRESETS["ai_training"][1]),
        model_name=model_name,
        model_scope=scope,
        price_wei=price,
        settlement=settlement_row(org, model_name=model_name, price=price),
        issued_at=timezone.now(),
    )


def paid_run_row(org, works, *, run_id="run-1", model_name="m-1", price=7):
    """A training run whose invoice for `works` was paid."""
    from training.models import Invoice, TrainingRun, TrainingRunWork

    run = TrainingRun.objects.create(org=org, run_id=run_id, model_name=model_name, works_reported=len(works))
    invoice = Invoice.objects.create(
        org=org,
        run=run,
        total_wei=price * len(works),
        status=Invoice.Status.PAID,
        paid_at=timezone.now(),
        settlement=settlement_row(org, purpose="invoice", price=price * len(works)),
    )
    for work in works:
        TrainingRunWork.objects.create(
            run=run, work=work, status=TrainingRunWork.Status.PAID, price_wei=price, invoice=invoice
        )
    return run
