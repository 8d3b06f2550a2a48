import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from x402.http.utils import encode_payment_required_header

from core.chain.client import get_web3
from core.errors import CHAIN_ERRORS, ERR_CHAIN_DOWN
from core.http import REFUSALS, form_refusal, json_fields, refusal_words, wallet_json
from core.selectors import wallet_address_for_user
from licensing import fetches, hooks, rights, selectors, services, uses
from licensing.certificates import certificate_check, certificate_document
from licensing.delivery import licensed_file
from licensing.derivatives import DerivationError
from licensing.derivatives import derivation_decide as decide
from licensing.forms import CatalogueFilterForm, CertificateForm, OfferForm, QuoteForm
from licensing.models import CatalogueEntry, Offer, PaidFetch, Quote
from licensing.terms import AI_FREE, AI_PROHIBITED
from works.models import DerivationLink, Work, WorkDigest
from works.services import digest_record
from works.shortcuts import get_public_work_or_404, get_work_for_owner_or_404

ERR_NO_SUCH_LICENCE = "No such licence."


@login_required
@require_http_methods(["GET", "POST"])
def offer_new(request, pk):
    work = get_work_for_owner_or_404(request, pk)
    if request.method == "POST":
        form = OfferForm(request.POST)
        if form.is_valid():
            try:
                services.offer_create(
                    work=work,
                    terms=form.terms(chain_id=settings.CHAIN_ID),
                    title=form.cleaned_data["title"],
                    preset=form.cleaned_data["preset"],
                )
            except services.LicensingError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "Offer published: buyers can license this work now.")
                return redirect(work)
    else:
        form = OfferForm(initial=OfferForm.initial_for(request.GET.get("preset", "commercial_use")))
    return render(
        request,
        "licensing/offer_form.html",
        {"work": work, "form": form, "presets": OfferForm.preset_cards()},
        status=400 if form.errors else 200,
    )


def _own_offer(request, pk) -> Offer:
    return get_object_or_404(Offer.objects.select_related("work", "terms"), pk=pk, work__owner=request.user)


@login_required
@require_http_methods(["GET", "POST"])
def offer_edit(request, pk):
    """Edit = a new version of the offer; the old one is retired (and revoked on chain)."""
    offer = _own_offer(request, pk)
    if offer.status != Offer.Status.ACTIVE:
        messages.error(request, services.ERR_OFFER_RETIRED)
        return redirect(offer.work.get_absolute_url() + "#offers")
    status = 200
    if request.method == "POST":
        form = OfferForm(request.POST)
        if form.is_valid():
            try:
                revised = services.offer_revise(
                    offer=offer,
                    terms=form.terms(chain_id=settings.CHAIN_ID),
                    title=form.cleaned_data["title"],
                )
            except REFUSALS as exc:
                status = form_refusal(form, exc)
            else:
                messages.success(
                    request,
                    f"“{revised.title}” published"
                    + (f"; “{offer.title}” is retired." if revised.pk != offer.pk else ".")
                    + " Licences already sold keep the terms they were sold under.",
                )
                return redirect(offer.work.get_absolute_url() + "#offers")
        else:
            status = 400
    else:
        form = OfferForm(
            initial=OfferForm.initial_from(offer.terms.terms, preset=offer.terms.preset, title=offer.title)
        )
    return render(
        request,
        "licensing/offer_form.html",
        {"work": offer.work, "form": form, "presets": OfferForm.preset_cards(), "editing": offer},
        status=status,
    )


@login_required
@require_POST
def offer_withdraw(request, pk):
    offer = _own_offer(request, pk)
    services.offer_withdraw(offer=offer)
    messages.success(
        request, f"“{offer.title}” retired: nobody can buy it now. Licences already sold stay valid."
    )
    return redirect(offer.work.get_absolute_url() + "#offers")


@require_safe
def catalogue(request):
    form = CatalogueFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = selectors.catalogue_page(
        page_number=request.GET.get("page", 1),
        **{k: filters.get(k) or "" for k in ("q", "licence", "ai", "creator", "sort")},
        min_price=filters.get("min_price") or 0,
        max_price=filters.get("max_price") or 0,
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "query_key": request.GET.urlencode(),
        "cards": selectors.catalogue_cards(entries=page.object_list),
        "media_url": settings.MEDIA_URL,
        "errors_in_results": bool(request.htmx),  # the full page shows them beside the fields
    }
    if request.htmx:
        # htmx does not swap 4xx answers: the partial carries the form's errors with a 200.
        return render(request, "licensing/partials/catalogue_results.html", context)
    return render(request, "licensing/catalogue.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def quote_new(request, pk):
    offer = get_object_or_404(
        Offer.objects.select_related("work__registration", "terms").filter(work__in=_public_works()), pk=pk
    )
    form = QuoteForm(request.POST, terms=offer.terms.terms)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors_text()))
        return redirect(offer.work.get_absolute_url() + "#offers")
    try:
        quote = services.quote_create(
            offer=offer,
            buyer=request.user,
            buyer_address=wallet_address_for_user(user=request.user),
            uses_mask=form.cleaned_data["uses_mask"],
        )
    except REFUSALS as exc:
        messages.error(request, refusal_words(exc))
        return redirect(offer.work.get_absolute_url() + "#offers")
    return redirect(quote)


def _public_works():

    return Work.objects.public()


def _get_quote(request, quote_id):
    quote = selectors.quote_for_buyer(quote_id=quote_id, user=request.user)
    if quote is None:
        raise Http404("No such quote.")
    return quote


def _quote_context(quote):
    """The quote and what the chain says of its payments (read before rendering)."""
    services.quote_refresh_status(quote=quote)
    payments = services.quote_payments(quote=quote)
    return {
        "quote": quote,
        "offer": quote.offer,
        "work": quote.offer.work,
        "mined": payments.mined,
        "in_flight": payments.submitted,
        "last_reverted": payments.last_reverted,
        "can_pay": quote.status == Quote.Status.OPEN and not payments.in_flight,
        "uses_bought": uses.labels_of(quote.uses),
        "price_lines": [
            {"label": uses.LABELS[uses.BY_NAME[line["use"]]], "price_wei": int(line["price_wei"])}
            for line in quote.lines
        ],
        "chain_error": payments.chain_error,
        "confirmations": settings.CHAIN_CONFIRMATIONS,
    }


@login_required
def quote_detail(request, quote_id):
    return render(request, "licensing/quote.html", _quote_context(_get_quote(request, quote_id)))


@login_required
def quote_status(request, quote_id):
    return render(
        request, "licensing/partials/quote_status.html", _quote_context(_get_quote(request, quote_id))
    )


@login_required
@wallet_json
def quote_tx(request, quote_id):
    """The transaction to send; for a quote in the stablecoin first the permit to sign (then
    POST it to `permitUrl` for the transaction)."""
    quote = _get_quote(request, quote_id)
    if quote.currency != "ETH":
        return JsonResponse(
            {
                "permit": services.quote_permit_typed_data(quote=quote),
                "permitUrl": reverse("licensing:quote_permit", args=[quote.quote_id]),
                "expiry": quote.expiry,
            }
        )
    return JsonResponse({"tx": services.quote_transaction(quote=quote), "expiry": quote.expiry})


@login_required
@require_POST
@wallet_json
def quote_permit(request, quote_id):
    """The buyer's permit for a stablecoin quote -> purchaseWithPermit, for the wallet to send."""
    quote = _get_quote(request, quote_id)
    (signature,) = json_fields(request, "signature")
    return JsonResponse(
        {"tx": services.quote_transaction(quote=quote, permit=signature), "expiry": quote.expiry}
    )


@login_required
@require_POST
@wallet_json
def quote_submitted(request, quote_id):
    quote = _get_quote(request, quote_id)
    (tx_hash,) = json_fields(request, "txHash")
    services.quote_report_tx(quote=quote, tx_hash=tx_hash)
    return JsonResponse({"status": "submitted"})


def _get_licence(request, pk):
    licence = selectors.licence_for_viewer(pk=pk, user=request.user)
    if licence is None:
        raise Http404(ERR_NO_SUCH_LICENCE)
    return licence


def licence_detail(request, pk):
    licence = _get_licence(request, pk)
    terms = licence.terms.terms
    return render(
        request,
        "licensing/licence.html",
        {
            "licence": licence,
            "terms": terms,
            "can_download": licence.licensee_id == request.user.pk and licence.status == licence.Status.VALID,
            "uses_bought": uses.labels_of(licence.uses),
            "uses_free": uses.labels_of(uses.granted(terms, licence.uses) & ~licence.uses),
        },
    )


def licence_json(request, pk):
    """The certificate, signed by the platform key (EIP-712), for its parties to hand on."""
    licence = _get_licence(request, pk)
    response = JsonResponse(certificate_document(licence), json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'inline; filename="licence-{licence.pk}.json"'
    return response


@require_http_methods(["GET", "POST"])
def certificate_verify(request):
    """Anyone checks a certificate they were shown: paste or upload its JSON."""
    form = CertificateForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = certificate_check(form.cleaned_data["document"])
    return render(
        request,
        "licensing/certificate_verify.html",
        {"form": form, "result": result},
        status=400 if form.errors else 200,
    )


@login_required
def licence_download(request, pk):
    licence = _get_licence(request, pk)
    if licence.licensee_id != request.user.pk or licence.status != licence.Status.VALID:
        raise Http404(ERR_NO_SUCH_LICENCE)
    data, name, mime = licensed_file(licence=licence, base_url=request.build_absolute_uri("/").rstrip("/"))
    digest_record(work=licence.work, data=data, kind=WorkDigest.Kind.DOWNLOAD)  # audits find it exactly
    response = HttpResponse(data, content_type=mime)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def work_terms(request, pk):
    """The licence terms of a public work's active offers, as canonical JSON (linked from
    JSON-LD)."""
    work = get_public_work_or_404(pk)
    offers = selectors.offers_for_work(work=work)
    return JsonResponse(
        {
            "work": work.pk,
            "offers": [
                {
                    "title": o.title,
                    "terms_hash": o.terms.terms_hash,
                    "terms": json.loads(o.terms.canonical_json),
                    "uses": [
                        {k: (str(v) if k == "price_wei" else v) for k, v in row.items() if k != "use"}
                        for row in uses.available(o.terms.terms)
                    ],
                }
                for o in offers
            ],
            "default": "All rights reserved; no AI training." if not offers else None,
        },
        json_dumps_params={"indent": 2},
    )


def tdm_policy(request, pk):
    work = get_public_work_or_404(pk)
    policy = rights.tdm_policy(request=request, work=work, ai=rights.ai_status(work))
    return JsonResponse(policy, content_type="application/ld+json", json_dumps_params={"indent": 2})


def tdmrep_json(request):
    """/.well-known/tdmrep.json: everything is reserved unless a work's terms allow free AI use."""
    free = CatalogueEntry.objects.filter(ai_training="free").values_list("work_id", flat=True)[:10_000]
    rules = [{"location": f"/works/{pk}/*", "tdm-reservation": 0} for pk in free]
    rules += [
        {"location": "/works/*", "tdm-reservation": 1, "tdm-policy": request.build_absolute_uri("/ai.txt")},
        {"location": "/media/*", "tdm-reservation": 1, "tdm-policy": request.build_absolute_uri("/ai.txt")},
    ]
    return JsonResponse(rules, safe=False, json_dumps_params={"indent": 2})


def ai_txt(request):
    free = list(CatalogueEntry.objects.filter(ai_training="free").values_list("work_id", flat=True)[:10_000])
    lines = [
        "# ai.txt: AI training permissions for this site (https://site.spawning.ai/spawning-ai-txt).",
        "# Works are reserved for AI training unless their creator chose free AI use;",
        f"# paid AI-training licences: {request.build_absolute_uri(reverse('licensing:catalogue'))}?ai=paid",
        "User-Agent: *",
        *[f"Allow: /works/{pk}/" for pk in free],
        "Disallow: /media/",
        "Disallow: /works/",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


def rsl_license(request):
    """/license.xml: the RSL 1.0 licence document (referenced from robots.txt)."""
    entries = CatalogueEntry.objects.only(
        "work_id",
        "ai_training",
        "ai_price_wei",
        "ai_currency",
        "creator_name",
        "creator_address",
        "thumbnail",
    ).order_by("work_id")[:10_000]
    return HttpResponse(
        rights.rsl_document(request=request, entries=entries), content_type="application/rsl+xml"
    )


@login_required
def licences(request):
    return render(
        request,
        "licensing/licences.html",
        {
            "bought": selectors.licences_for_buyer(user=request.user),
            "sold": selectors.licences_sold_by(user=request.user),
            **hooks.sales_page_context(user=request.user),
        },
    )


@login_required
@require_POST
def derivation_decide(request, pk):
    link = get_object_or_404(
        DerivationLink.objects.select_related("parent", "child"), pk=pk, parent__owner=request.user
    )
    approve = request.POST.get("decision") == "approve"
    try:
        decide(link=link, user=request.user, approve=approve)
        verdict = "approved" if approve else "refused"
        messages.success(request, f"“{link.child.title}” {verdict} as a derivative of your work.")
    except DerivationError as exc:
        messages.error(request, exc.message)
    return redirect(link.parent)


def _payment_required(required, *, code: str, status: int = 402) -> JsonResponse:
    """A 402 in x402 version 2: the requirements in PAYMENT-REQUIRED (base64 JSON), and the same
    JSON (with the reason and a code) as the body for clients that read it there."""
    body = required.model_dump(by_alias=True, exclude_none=True, mode="json")
    response = JsonResponse({**body, "code": code}, status=status)
    response["PAYMENT-REQUIRED"] = encode_payment_required_header(required)
    response["Access-Control-Expose-Headers"] = "PAYMENT-REQUIRED, PAYMENT-RESPONSE"
    return response


@require_safe
def ai_fetch(request, pk):
    """A work's AI-use resource (the original, for an automated client): 403 where the terms
    prohibit AI use per fetch, the file where it is free, and where it is paid x402: 402 with the
    payment requirements until the request carries a valid PAYMENT-SIGNATURE, then the file with
    its licence (XMP and C2PA: the use and the payer) and PAYMENT-RESPONSE."""
    work = get_public_work_or_404(pk)
    terms = fetches.fetch_terms(work=work)
    if terms.choice == AI_PROHIBITED:
        response = JsonResponse(
            {
                "error": fetches.ERR_PROHIBITED,
                "code": "ai_use_prohibited",
                "terms": request.build_absolute_uri(reverse("licensing:work_terms", args=[work.pk])),
            },
            status=403,
        )
        return rights.rights_headers(response, request=request, work=work)
    resource = request.build_absolute_uri(reverse("licensing:ai_fetch", args=[work.pk]))
    if terms.choice == AI_FREE:
        with work.original.open("rb") as handle:
            response = HttpResponse(handle.read(), content_type=work.mime)
        return rights.rights_headers(response, request=request, work=work)
    header = request.headers.get("PAYMENT-SIGNATURE", "")
    try:
        if not header:
            required = fetches.payment_required(work=work, terms=terms, resource_url=resource, w3=get_web3())
            return rights.rights_headers(
                _payment_required(required, code="payment_required"), request=request, work=work
            )
        fetch = fetches.fetch_pay(work=work, terms=terms, header=header, resource_url=resource)
    except fetches.FetchRefused as exc:
        if exc.requirements is not None:
            refused = _payment_required(exc.requirements, code=exc.code)
        else:
            refused = JsonResponse({"error": exc.message, "code": exc.code}, status=exc.status)
        return rights.rights_headers(refused, request=request, work=work)
    except CHAIN_ERRORS:
        return JsonResponse({"error": ERR_CHAIN_DOWN, "code": "chain_unavailable"}, status=503)
    data, name, mime = licensed_file(licence=fetch, base_url=request.build_absolute_uri("/").rstrip("/"))
    digest_record(work=work, data=data, kind=WorkDigest.Kind.DOWNLOAD)  # audits find it exactly
    response = HttpResponse(data, content_type=mime)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["PAYMENT-RESPONSE"] = fetches.payment_response(fetch=fetch)
    response["Access-Control-Expose-Headers"] = "PAYMENT-REQUIRED, PAYMENT-RESPONSE"
    return rights.rights_headers(response, request=request, work=work)


@require_safe
def fetch_receipt(request, quote_id):
    """What one paid AI fetch bought, for whoever holds its link (it is in the file's licence):
    the work, the use, the payer, the amount and the settlement transaction."""
    fetch = get_object_or_404(
        PaidFetch.objects.select_related("work", "terms"), quote_id=quote_id, status=PaidFetch.Status.PAID
    )
    return JsonResponse(
        {
            "work": fetch.work_id,
            "title": fetch.work.title,
            "use": "ai_fetch",
            "payer": fetch.payer,
            "amount": str(fetch.amount_units),
            "currency": fetch.currency,
            "token": fetch.token,
            "terms_hash": fetch.terms.terms_hash,
            "transaction": fetch.tx_hash,
            "paid_at": fetch.paid_at.isoformat(),
        }
    )
