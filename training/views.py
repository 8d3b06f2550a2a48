"""An organisation's AI-training pages: a training run, an invoice and a training-licence quote,
each paid from one of the organisation's wallets."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from core.chain.clock import chain_now
from core.errors import PortalError
from core.http import json_fields, wallet_json
from core.selectors import wallet_address_for_request
from orgs.models import Membership
from orgs.selectors import membership_for
from royalties.models import Settlement
from royalties.settlement import settlement_transaction
from training.models import Invoice, TrainingRun
from training.services import invoice_payment
from works.models import Work

ERR_TX_HASH = "A transaction hash is 0x and 64 hex digits."
ERR_QUOTE_WALLET = "This quote is paid from {address}: sign in with that wallet to pay it."


def _membership(request, slug) -> Membership:
    membership = membership_for(slug=slug, user=request.user)
    if membership is None:
        raise Http404("No such organisation.")
    return membership


@login_required
def run_detail(request, slug, pk):
    membership = _membership(request, slug)
    run = get_object_or_404(TrainingRun, pk=pk, org=membership.org)
    return render(
        request,
        "training/run.html",
        {
            "org": membership.org,
            "run": run,
            "rows": run.works.select_related("work").order_by("status", "work_id"),
        },
    )


@login_required
def invoice_detail(request, slug, pk):
    membership = _membership(request, slug)
    invoice = get_object_or_404(
        Invoice.objects.select_related("run", "settlement"), pk=pk, org=membership.org
    )
    return render(request, "training/invoice.html", _invoice_context(request, membership, invoice))


def _invoice_context(request, membership, invoice):
    wallet = wallet_address_for_request(request)
    paying = list(membership.org.wallets.values_list("address", flat=True))
    pending_tx = (
        request.session.get(f"invoice-{invoice.pk}-tx") if invoice.status == Invoice.Status.OPEN else None
    )
    return {
        "org": membership.org,
        "invoice": invoice,
        "rows": invoice.run.works.exclude(price_wei=0).select_related("work"),
        "wallet": wallet,
        "can_pay": invoice.status == Invoice.Status.OPEN and wallet in paying and not pending_tx,
        "pending_tx": pending_tx,
        "paying": paying,
    }


@login_required
def invoice_status(request, slug, pk):
    membership = _membership(request, slug)
    invoice = get_object_or_404(
        Invoice.objects.select_related("run", "settlement"), pk=pk, org=membership.org
    )
    return render(
        request, "training/partials/invoice_status.html", _invoice_context(request, membership, invoice)
    )


@login_required
@wallet_json
def invoice_tx(request, slug, pk):

    membership = _membership(request, slug)
    invoice = get_object_or_404(
        Invoice.objects.select_related("run", "settlement", "org"), pk=pk, org=membership.org
    )
    settlement = invoice_payment(invoice=invoice, buyer_address=wallet_address_for_request(request) or "")
    return JsonResponse({"tx": settlement_transaction(settlement=settlement)})


@login_required
@require_POST
@wallet_json
def invoice_submitted(request, slug, pk):
    membership = _membership(request, slug)
    invoice = get_object_or_404(Invoice, pk=pk, org=membership.org)
    tx_hash = _tx_hash(request)
    request.session[f"invoice-{invoice.pk}-tx"] = tx_hash  # shown while the indexer confirms it
    return JsonResponse({"status": "submitted"})


# ------------------------------------------------------------------ training-licence quotes


def _settlement(membership, settlement_id):

    return get_object_or_404(
        Settlement,
        settlement_id=settlement_id.lower(),
        org=membership.org,
        purpose=Settlement.Purpose.TRAINING_LICENCE,
    )


def _quote_context(request, membership, settlement):

    wallet = wallet_address_for_request(request)
    pending_tx = (
        request.session.get(f"quote-{settlement.pk}-tx")
        if settlement.status == Settlement.Status.OPEN
        else None
    )
    expired = settlement.status == Settlement.Status.OPEN and settlement.expiry <= chain_now()
    prices = dict(settlement.lines.values_list("work_id", "work_price_wei").distinct())

    works = {w.pk: w for w in Work.objects.filter(pk__in=prices).only("pk", "title")}
    return {
        "org": membership.org,
        "settlement": settlement,
        "rows": [(works.get(pk), price) for pk, price in sorted(prices.items())],
        "refused": settlement.refused,
        "wallet": wallet,
        "expired": expired,
        "can_pay": settlement.status == Settlement.Status.OPEN
        and not expired
        and wallet == settlement.buyer_address
        and not pending_tx,
        "pending_tx": pending_tx,
    }


@login_required
def quote_detail(request, slug, settlement_id):
    membership = _membership(request, slug)
    settlement = _settlement(membership, settlement_id)
    return render(request, "training/quote.html", _quote_context(request, membership, settlement))


@login_required
def quote_status(request, slug, settlement_id):
    membership = _membership(request, slug)
    settlement = _settlement(membership, settlement_id)
    return render(
        request, "training/partials/quote_status.html", _quote_context(request, membership, settlement)
    )


@login_required
@wallet_json
def quote_tx(request, slug, settlement_id):

    membership = _membership(request, slug)
    settlement = _settlement(membership, settlement_id)
    if wallet_address_for_request(request) != settlement.buyer_address:
        raise PortalError(
            ERR_QUOTE_WALLET.format(address=settlement.buyer_address), status=403, code="wrong_wallet"
        )
    return JsonResponse({"tx": settlement_transaction(settlement=settlement)})


def _tx_hash(request) -> str:
    (tx_hash,) = json_fields(request, "txHash")
    if len(tx_hash) != 66 or not tx_hash.startswith("0x"):
        raise PortalError(ERR_TX_HASH, code="invalid_body")
    return tx_hash


@login_required
@require_POST
@wallet_json
def quote_submitted(request, slug, settlement_id):
    membership = _membership(request, slug)
    settlement = _settlement(membership, settlement_id)
    tx_hash = _tx_hash(request)
    request.session[f"quote-{settlement.pk}-tx"] = tx_hash
    return JsonResponse({"status": "submitted"})
