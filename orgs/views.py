from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.chain.clock import chain_now
from core.errors import PortalError
from core.http import json_fields, wallet_json
from core.selectors import wallet_address_for_request
from licensing.models import Invoice, TrainingLicence, TrainingRun
from licensing.training import invoice_payment
from orgs import selectors, services
from orgs.forms import KeyForm, MemberForm, OrgForm, WalletForm
from orgs.models import ApiKey, Membership
from royalties.models import Settlement
from royalties.settlement import settlement_transaction
from works.models import Work

ERR_TX_HASH = "A transaction hash is 0x and 64 hex digits."
NEW_KEY_SESSION = "orgs:new-key"
ERR_QUOTE_WALLET = "This quote is paid from {address}: sign in with that wallet to pay it."


def _membership(request, slug, *, admin=False) -> Membership:
    membership = selectors.membership_for(slug=slug, user=request.user)
    if membership is None or (admin and membership.role != Membership.Role.ADMIN):
        raise Http404("No such organisation.")
    return membership


@login_required
def index(request):
    form = OrgForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.org_create(
                name=form.cleaned_data["name"],
                user=request.user,
                wallet_address=wallet_address_for_request(request),
            )
        except PortalError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, f"{org.name} created: you are its admin, your wallet its first paying wallet."
            )
            return redirect(org)
    return render(
        request,
        "orgs/index.html",
        {"memberships": selectors.orgs_for_user(user=request.user), "form": form},
        status=400 if form.errors else 200,
    )


def _detail_context(membership, **extra):
    org = membership.org
    return {
        "org": org,
        "membership": membership,
        "is_admin": membership.role == Membership.Role.ADMIN,
        "members": selectors.org_members(org=org),
        "wallets": list(org.wallets.all()),
        "keys": list(org.api_keys.select_related("created_by")),
        "licence_count": TrainingLicence.objects.filter(org=org, status="valid").count(),
        "run_count": TrainingRun.objects.filter(org=org).count(),
        "open_invoice_count": Invoice.objects.filter(org=org, status=Invoice.Status.OPEN).count(),
        "licences": TrainingLicence.objects.filter(org=org)
        .select_related("work", "org")
        .order_by("-issued_at")[:20],
        "runs": TrainingRun.objects.filter(org=org).order_by("-reported_at")[:20],
        "invoices": Invoice.objects.filter(org=org).select_related("run").order_by("-created_at")[:20],
        "member_form": MemberForm(),
        "wallet_form": WalletForm(),
        "key_form": KeyForm(),
        **extra,
    }


@login_required
def detail(request, slug):
    membership = _membership(request, slug)
    extra = {}
    new = request.session.pop(NEW_KEY_SESSION, None)
    if new and (row := ApiKey.objects.filter(pk=new.get("id"), org=membership.org).first()):
        extra = {"new_key": new["key"], "new_key_row": row}
    response = render(request, "orgs/detail.html", _detail_context(membership, **extra))
    if extra:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def member_add(request, slug):
    membership = _membership(request, slug, admin=True)
    form = MemberForm(request.POST)
    if form.is_valid():
        try:
            services.member_add(
                org=membership.org,
                by=request.user,
                address=form.cleaned_data["address"],
                role=form.cleaned_data["role"],
            )
            messages.success(request, "Member added.")
        except PortalError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, "Enter a wallet address and a role.")
    return redirect(membership.org)


@login_required
@require_POST
def member_remove(request, slug, pk):
    membership = _membership(request, slug, admin=True)
    target = get_object_or_404(Membership, pk=pk, org=membership.org)
    try:
        services.member_remove(org=membership.org, by=request.user, membership=target)
        messages.success(request, "Member removed.")
    except PortalError as exc:
        messages.error(request, exc.message)
    return redirect(membership.org)


@login_required
@require_POST
def wallet_add(request, slug):
    membership = _membership(request, slug, admin=True)
    form = WalletForm(request.POST)
    try:
        if not form.is_valid():
            raise services.OrgError(services.ERR_ADDRESS.format(address=request.POST.get("address", "")))
        services.wallet_add(org=membership.org, by=request.user, address=form.cleaned_data["address"])
        messages.success(request, "Paying wallet added.")
    except PortalError as exc:
        messages.error(request, exc.message)
    return redirect(membership.org)


@login_required
@require_POST
def key_create(request, slug):
    membership = _membership(request, slug, admin=True)
    form = KeyForm(request.POST)
    if form.is_valid():
        try:
            row, key = services.api_key_create(
                org=membership.org,
                by=request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                rate_per_minute=form.cleaned_data["rate_per_minute"],
            )
        except PortalError as exc:
            form.add_error(None, exc.message)
        else:
            # Shown once, on the page this redirects to (so a reload neither shows it again
            # nor creates another key); only its digest is stored.
            request.session[NEW_KEY_SESSION] = {"key": key, "id": row.pk}
            return redirect(membership.org)
    return render(request, "orgs/detail.html", _detail_context(membership, key_form=form), status=400)


@login_required
@require_POST
def key_revoke(request, slug, pk):
    membership = _membership(request, slug, admin=True)
    key = get_object_or_404(ApiKey, pk=pk, org=membership.org)
    services.api_key_revoke(org=membership.org, by=request.user, key=key)
    messages.success(request, f"Key {key.prefix}… revoked: it stops working at once.")
    return redirect(membership.org)


@login_required
def run_detail(request, slug, pk):
    membership = _membership(request, slug)
    run = get_object_or_404(TrainingRun, pk=pk, org=membership.org)
    return render(
        request,
        "orgs/run.html",
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
    return render(request, "orgs/invoice.html", _invoice_context(request, membership, invoice))


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
        request, "orgs/partials/invoice_status.html", _invoice_context(request, membership, invoice)
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
    return render(request, "orgs/quote.html", _quote_context(request, membership, settlement))


@login_required
def quote_status(request, slug, settlement_id):
    membership = _membership(request, slug)
    settlement = _settlement(membership, settlement_id)
    return render(request, "orgs/partials/quote_status.html", _quote_context(request, membership, settlement))


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
