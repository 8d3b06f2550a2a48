"""An organisation's AI-training pages: a training run, an invoice and a training-licence quote,
each paid from one of the organisation's wallets."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.chain import wallet
from core.chain.clock import chain_now
from core.chain.models import WalletTransaction
from core.errors import PortalError
from core.http import json_fields, wallet_json
from core.selectors import wallet_address_for_request
from orgs.models import Membership
from orgs.selectors import membership_for
from royalties.models import Settlement
from royalties.settlement import settlement_permit_typed_data, settlement_transaction
from training.models import Invoice, TrainingRun
from training.services import invoice_payment
from works.models import Work

ERR_NO_PAYMENT_ASKED = "Ask for the invoice's transaction first: press Pay with wallet."
SETTLEMENT = WalletTransaction.Kind.SETTLEMENT
ERR_QUOTE_WALLET = "This is paid from {address}: sign in with that wallet to pay it."


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
            "rows": run.works.select_related("work", "invoice").order_by("status", "work_id"),
        },
    )


@login_required
def invoice_detail(request, slug, pk):
    membership = _membership(request, slug)
    invoice = get_object_or_404(
        Invoice.objects.select_related("run", "settlement"), pk=pk, org=membership.org
    )
    return render(request, "training/invoice.html", _invoice_context(request, membership, invoice))


def _payment_state(settlement: Settlement | None, *, open_: bool) -> dict:
    """What the wallet sent to pay a settlement (core/chain/wallet.py): the transaction still on
    its way, the last one the contract refused and why."""
    if settlement is None or not open_:
        return {"pending_tx": None, "last_reverted": None, "chain_error": ""}
    state = wallet.payment_state(kind=SETTLEMENT, subject=settlement.settlement_id)
    return {
        "pending_tx": state.in_flight,
        "last_reverted": state.last_reverted,
        "chain_error": state.chain_error,
    }


def _invoice_context(request, membership, invoice):
    wallet_address = wallet_address_for_request(request)
    paying = list(membership.org.wallets.values_list("address", flat=True))
    state = _payment_state(invoice.settlement, open_=invoice.status == Invoice.Status.OPEN)
    pending_tx = state["pending_tx"]
    return {
        **state,
        "org": membership.org,
        "invoice": invoice,
        "rows": invoice.lines.select_related("work"),
        "wallet": wallet_address,
        "can_pay": invoice.status == Invoice.Status.OPEN and wallet_address in paying and not pending_tx,
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
    return _tx_or_permit(settlement, reverse("training:invoice_permit", args=[slug, pk]))


def _tx_or_permit(settlement: Settlement, permit_url: str) -> JsonResponse:
    """The transaction for the wallet to send; for a settlement in the stablecoin first the
    permit to sign (POSTed to `permitUrl` for the transaction): static/js/actions.js."""
    if settlement.currency != "ETH":
        return JsonResponse(
            {"permit": settlement_permit_typed_data(settlement=settlement), "permitUrl": permit_url}
        )
    return JsonResponse({"tx": settlement_transaction(settlement=settlement)})


def _permitted_tx(request, settlement: Settlement) -> JsonResponse:
    (signature,) = json_fields(request, "signature")
    return JsonResponse({"tx": settlement_transaction(settlement=settlement, permit=signature)})


@login_required
@require_POST
@wallet_json
def invoice_permit(request, slug, pk):
    """The paying wallet's permit for the invoice's settlement in the stablecoin ->
    settleWithPermit, for the wallet to send."""
    membership = _membership(request, slug)
    invoice = get_object_or_404(Invoice.objects.select_related("settlement"), pk=pk, org=membership.org)
    if invoice.settlement is None:
        raise PortalError(ERR_NO_PAYMENT_ASKED, status=409, code="no_transaction")
    _check_payer(request, invoice.settlement)
    return _permitted_tx(request, invoice.settlement)


@login_required
@require_POST
@wallet_json
def invoice_submitted(request, slug, pk):
    membership = _membership(request, slug)
    invoice = get_object_or_404(Invoice.objects.select_related("settlement"), pk=pk, org=membership.org)
    if invoice.settlement is None:
        raise PortalError(ERR_NO_PAYMENT_ASKED, status=409, code="no_transaction")
    _report(request, invoice.settlement)
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
    wallet_address = wallet_address_for_request(request)
    state = _payment_state(settlement, open_=settlement.status == Settlement.Status.OPEN)
    pending_tx = state["pending_tx"]
    expired = settlement.status == Settlement.Status.OPEN and settlement.expiry <= chain_now()
    prices = dict(settlement.lines.values_list("work_id", "work_price_wei").distinct())

    works = {w.pk: w for w in Work.objects.filter(pk__in=prices).only("pk", "title")}
    return {
        **state,
        "org": membership.org,
        "settlement": settlement,
        "rows": [(works.get(pk), price) for pk, price in sorted(prices.items())],
        "refused": settlement.refused,
        "wallet": wallet_address,
        "expired": expired,
        "can_pay": settlement.status == Settlement.Status.OPEN
        and not expired
        and wallet_address == settlement.buyer_address
        and not pending_tx,
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
    _check_payer(request, settlement)
    return _tx_or_permit(settlement, reverse("training:quote_permit", args=[slug, settlement.settlement_id]))


@login_required
@require_POST
@wallet_json
def quote_permit(request, slug, settlement_id):
    """The buyer's permit for a quote in the stablecoin -> settleWithPermit, for the wallet to send."""
    membership = _membership(request, slug)
    settlement = _settlement(membership, settlement_id)
    _check_payer(request, settlement)
    return _permitted_tx(request, settlement)


def _check_payer(request, settlement: Settlement) -> None:
    if wallet_address_for_request(request) != settlement.buyer_address:
        raise PortalError(
            ERR_QUOTE_WALLET.format(address=settlement.buyer_address), status=403, code="wrong_wallet"
        )


def _report(request, settlement: Settlement) -> None:
    """Follow the transaction the wallet returned for this settlement (the page shows it, then
    its reason if the contract refuses it; the Settled event pays)."""
    (tx_hash,) = json_fields(request, "txHash")
    wallet.wallet_tx_report(
        kind=SETTLEMENT, subject=settlement.settlement_id, tx_hash=tx_hash, user=request.user
    )


@login_required
@require_POST
@wallet_json
def quote_submitted(request, slug, settlement_id):
    membership = _membership(request, slug)
    _report(request, _settlement(membership, settlement_id))
    return JsonResponse({"status": "submitted"})
