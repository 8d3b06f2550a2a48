import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from licensing import rights, selectors, services
from licensing.forms import CatalogueFilterForm, OfferForm
from licensing.models import CatalogueEntry, Licence, Offer
from portal.chain.contracts import ContractNotDeployed
from portal.selectors import wallet_address_for_user
from works.models import Work

ERR_CHAIN_DOWN = "The chain is not reachable right now; try again in a moment."


def _get_work_for_owner(request, pk):
    work = Work.objects.select_related("registration").filter(pk=pk, owner=request.user).first()
    if work is None:
        raise Http404("No such work.")
    return work


@login_required
@require_http_methods(["GET", "POST"])
def offer_new(request, pk):
    work = _get_work_for_owner(request, pk)
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
        request, "licensing/offer_form.html", {"work": work, "form": form}, status=400 if form.errors else 200
    )


@login_required
@require_POST
def offer_withdraw(request, pk):
    offer = get_object_or_404(Offer.objects.select_related("work"), pk=pk, work__owner=request.user)
    services.offer_withdraw(offer=offer)
    messages.success(request, f"“{offer.title}” withdrawn. Licences already sold stay valid.")
    return redirect(offer.work)


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
    }
    template = "licensing/partials/catalogue_results.html" if request.htmx else "licensing/catalogue.html"
    return render(request, template, context, status=400 if form.errors else 200)


@login_required
@require_POST
def quote_new(request, pk):
    offer = get_object_or_404(Offer.objects.select_related("work__registration", "terms"), pk=pk)
    try:
        quote = services.quote_create(
            offer=offer, buyer=request.user, buyer_address=wallet_address_for_user(user=request.user)
        )
    except services.LicensingError as exc:
        messages.error(request, exc.message)
        return redirect(offer.work)
    except (ContractNotDeployed, ConnectionError, OSError):
        messages.error(request, ERR_CHAIN_DOWN)
        return redirect(offer.work)
    return redirect("licensing:quote", quote_id=quote.quote_id)


def _get_quote(request, quote_id):
    quote = selectors.quote_for_buyer(quote_id=quote_id, user=request.user)
    if quote is None:
        raise Http404("No such quote.")
    return quote


@login_required
def quote_detail(request, quote_id):
    quote = _get_quote(request, quote_id)
    return render(
        request, "licensing/quote.html", {"quote": quote, "offer": quote.offer, "work": quote.offer.work}
    )


@login_required
def quote_status(request, quote_id):
    return render(request, "licensing/partials/quote_status.html", {"quote": _get_quote(request, quote_id)})


@login_required
def quote_tx(request, quote_id):
    quote = _get_quote(request, quote_id)
    if quote.status != quote.Status.OPEN:
        return JsonResponse({"error": "This quote has already been paid."}, status=409)
    try:
        return JsonResponse({"tx": services.quote_transaction(quote=quote), "expiry": quote.expiry})
    except (ContractNotDeployed, ConnectionError, OSError):
        return JsonResponse({"error": ERR_CHAIN_DOWN}, status=503)


@login_required
@require_POST
def quote_submitted(request, quote_id):
    quote = _get_quote(request, quote_id)
    try:
        services.quote_report_tx(quote=quote, tx_hash=json.loads(request.body)["txHash"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": 'Send JSON {"txHash": "0x..."}.'}, status=400)
    except services.LicensingError as exc:
        return JsonResponse({"error": exc.message}, status=400)
    return JsonResponse({"status": "submitted"})


def _get_licence(request, pk, *, public=False):
    licence = get_object_or_404(Licence.objects.select_related("work", "terms", "licensee"), pk=pk)
    if not public and licence.licensee_id != request.user.pk and licence.work.owner_id != request.user.pk:
        raise Http404("No such licence.")
    return licence


def licence_detail(request, pk):
    licence = _get_licence(request, pk, public=True)
    can_download = request.user.is_authenticated and licence.licensee_id == request.user.pk
    return render(
        request,
        "licensing/licence.html",
        {"licence": licence, "terms": licence.terms.terms, "can_download": can_download},
    )


def licence_json(request, pk):
    """The certificate, signed by the platform key (EIP-712), for anyone to verify."""
    from eth_account import Account

    licence = _get_licence(request, pk, public=True)
    return JsonResponse(
        {
            "licence": licence.pk,
            "work": {"id": licence.work_id, "title": licence.work.title, "sha256": licence.work.sha256},
            "licensee": licence.licensee_address,
            "terms": json.loads(licence.terms.canonical_json),
            "terms_hash": licence.terms.terms_hash,
            "price_wei": str(licence.price_wei),
            "tx_hash": licence.tx_hash,
            "block_number": licence.block_number,
            "issued_at": licence.issued_at.isoformat(),
            "expires_at": licence.expires_at.isoformat() if licence.expires_at else None,
            "certificate": licence.certificate,
            "signature": licence.certificate_signature,
            "signer": Account.from_key(settings.PLATFORM_SIGNING_KEY).address,
        },
        json_dumps_params={"indent": 2},
    )


@login_required
def licence_download(request, pk):
    from licensing.delivery import licensed_file

    licence = _get_licence(request, pk)
    if licence.licensee_id != request.user.pk:
        raise Http404("No such licence.")
    data, name, mime = licensed_file(licence=licence, base_url=request.build_absolute_uri("/").rstrip("/"))
    response = HttpResponse(data, content_type=mime)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def work_terms(request, pk):
    """The licence terms of a work's active offers, as canonical JSON (linked from JSON-LD)."""
    work = get_object_or_404(Work, pk=pk)
    offers = selectors.offers_for_work(work=work)
    return JsonResponse(
        {
            "work": work.pk,
            "offers": [
                {
                    "title": o.title,
                    "terms_hash": o.terms.terms_hash,
                    "terms": json.loads(o.terms.canonical_json),
                }
                for o in offers
            ],
            "default": "All rights reserved; no AI training." if not offers else None,
        },
        json_dumps_params={"indent": 2},
    )


def tdm_policy(request, pk):
    work = get_object_or_404(Work, pk=pk)
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


@login_required
def licences(request):
    return render(
        request,
        "licensing/licences.html",
        {
            "bought": selectors.licences_for_buyer(user=request.user),
            "sold": selectors.licences_sold_by(user=request.user),
        },
    )
