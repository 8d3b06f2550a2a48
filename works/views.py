from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.chain.accounts import KINDS
from core.chain.client import ChainUnavailable, chain_check, get_web3
from core.errors import ERR_NO_WALLET, PortalError
from core.http import json_fields, wallet_json
from core.selectors import wallet_address_for_user
from works import hooks, portfolios, selectors, services
from works.forms import PortfolioForm, UploadForm, VerifyForm
from works.models import Portfolio
from works.shortcuts import (
    get_portfolio_for_owner_or_404,
    get_readable_work_or_404,
    get_visible_work_or_404,
    get_work_for_owner_or_404,
)
from works.verification import provenance_check


@login_required
@require_http_methods(["GET", "POST"])
def upload(request):
    form = UploadForm(
        request.POST or None,
        request.FILES or None,
        files_sent=len(request.FILES.getlist("file")),
        user=request.user,
    )
    if request.method == "POST" and form.is_valid():
        address = wallet_address_for_user(user=request.user)
        if not address:
            form.add_error(None, ERR_NO_WALLET)
        else:
            try:
                with transaction.atomic():
                    work = services.work_upload(
                        user=request.user,
                        creator_address=address,
                        file=form.cleaned_data["file"],
                        title=form.cleaned_data["title"],
                        description=form.cleaned_data["description"],
                        tags=form.cleaned_data["tags"],
                    )
                    hooks.derivation_links_create(work=work, specs=form.parent_specs)
            except services.AlreadyUploaded as exc:
                return render(
                    request, "works/upload.html", {"form": form, "already": exc.work}, status=exc.status
                )
            if work.version_of_id:
                messages.info(
                    request,
                    f"This looks like an edited version of your “{work.version_of.title}”: it is registered "
                    "as a new version of it, with a link between the two.",
                )
            messages.success(request, "Uploaded. Now sign the registration with your wallet.")
            return redirect(work)
    return render(request, "works/upload.html", {"form": form}, status=400 if form.errors else 200)


def detail(request, pk):
    work = get_visible_work_or_404(request, pk)
    is_owner = request.user.is_authenticated and work.owner_id == request.user.pk
    version_of = work.version_of if work.version_of and work.version_of.is_visible_to(request.user) else None
    lineage = selectors.lineage(work=work, viewer=request.user)
    registration_dispute = hooks.registration_dispute_for(work=work) if work.is_public else None
    response = render(
        request,
        "works/detail.html",
        {
            "work": work,
            "registration": work.registration,
            "is_owner": is_owner,
            "version_of": version_of,
            **lineage,
            "registration_dispute": registration_dispute,
            "publications": list(work.publications.order_by("pk")),
            **hooks.work_page_context(request=request, work=work),
        },
    )
    return hooks.work_page_response(response=response, request=request, work=work)


def status(request, pk):
    work = get_visible_work_or_404(request, pk)
    return render(request, "works/partials/status.html", {"work": work, "registration": work.registration})


@login_required
@require_GET
@wallet_json
def typed_data(request, pk):
    work = get_work_for_owner_or_404(request, pk)
    payload = services.registration_typed_data(registration=work.registration)
    return JsonResponse({"address": work.creator_address, "typedData": payload})


@login_required
@require_POST
@wallet_json
def sign(request, pk):
    work = get_work_for_owner_or_404(request, pk)
    (signature,) = json_fields(request, "signature")
    registration = services.registration_sign(registration=work.registration, signature=signature)
    return JsonResponse({"status": registration.status, "label": registration.get_status_display()})


@login_required
def original(request, pk):
    work = get_work_for_owner_or_404(request, pk)
    return FileResponse(
        work.original.open("rb"), as_attachment=True, filename=work.original_name or "original"
    )


def provenance_json(request, pk):
    work = get_readable_work_or_404(pk)
    response = JsonResponse(selectors.provenance_document(work=work), json_dumps_params={"indent": 2})
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_http_methods(["GET", "POST"])
def verify(request):
    bound = request.method == "POST"
    form = VerifyForm(request.POST if bound else None, request.FILES if bound else None)
    results, near, sha256 = None, [], None
    if bound and form.is_valid():
        if form.cleaned_data.get("file"):
            sha256, query = selectors.fingerprint_upload(form.cleaned_data["file"])
            if query is not None:
                near = [m for m in selectors.near_matches(sha256=sha256, query=query) if not m["exact"]]
        else:
            sha256 = form.cleaned_data["sha256"].lower().removeprefix("0x")
        results = _check_registrations(sha256)
    return render(
        request,
        "works/verify.html",
        {"form": form, "results": results, "near": near, "sha256": sha256},
        status=400 if form.errors else 200,
    )


def _check_registrations(sha256):

    w3 = get_web3()
    try:
        chain_check(w3)
    except ChainUnavailable:
        w3 = None
    results = []
    for registration in selectors.registrations_for_sha256(sha256=sha256):
        document = selectors.provenance_document(work=registration.work)
        results.append(
            {"registration": registration, "check": provenance_check(document, w3=w3), "doc": document}
        )
    return results


@login_required
@require_POST
def publication_add(request, pk):
    """The owner says where else the work is published: dataset rows with that URL are this work."""
    work = get_work_for_owner_or_404(request, pk)
    try:
        services.publication_add(work=work, url=request.POST.get("url", ""))
        messages.success(request, "Added: audits now match that address to this work.")
    except PortalError as exc:
        messages.error(request, exc.message)
    return redirect(work.get_absolute_url() + "#published")


@login_required
@require_POST
def publication_remove(request, pk, publication):
    work = get_work_for_owner_or_404(request, pk)
    services.publication_remove(work=work, publication_id=publication)
    messages.success(request, "Removed.")
    return redirect(work.get_absolute_url() + "#published")


ERR_NO_FILE = "Send one image in the “file” field."
ERR_NO_CSV = "Send the CSV in the “csv” field."


@login_required
@require_http_methods(["GET", "POST"])
def portfolio_new(request):
    form = PortfolioForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        address = wallet_address_for_user(user=request.user)
        if not address:
            form.add_error(None, ERR_NO_WALLET)
        else:
            portfolio = portfolios.portfolio_create(
                user=request.user,
                creator_address=address,
                title=form.cleaned_data["title"],
                preset=form.cleaned_data["preset"],
            )
            return redirect(portfolio)
    return render(
        request,
        "works/portfolio_new.html",
        {"form": form, "portfolios": selectors.portfolios_for_owner(user=request.user)},
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def portfolio(request, pk):
    portfolio = get_portfolio_for_owner_or_404(request, pk)
    works = selectors.portfolio_works(portfolio=portfolio)
    presets = dict(hooks.licence_presets())
    return render(
        request,
        "works/portfolio.html",
        {
            "portfolio": portfolio,
            "works": works,
            "preset_name": presets.get(portfolio.preset, ""),
            "max_works": Portfolio.MAX_WORKS,
            "max_works_text": f"{Portfolio.MAX_WORKS:,}",
            "awaiting": sum(1 for work in works if work.registration.status == "awaiting_signature"),
            "signer_kind": KINDS[portfolio.signer_kind],
            "at_once": settings.PORTFOLIO_UPLOADS_AT_ONCE,
        },
    )


@login_required
@require_POST
@wallet_json
def portfolio_file(request, pk):
    portfolio = get_portfolio_for_owner_or_404(request, pk)
    upload = request.FILES.get("file")
    if upload is None:
        raise PortalError(ERR_NO_FILE, code="invalid_body")
    work = portfolios.portfolio_add(portfolio=portfolio, user=request.user, file=upload)
    return JsonResponse(
        {
            "work": {"id": work.pk, "title": work.title, "url": work.get_absolute_url()},
            "version_of": work.version_of_id,
            "count": portfolio.count,
        },
        status=201,
    )


@login_required
@require_POST
@wallet_json
def portfolio_csv(request, pk):
    portfolio = get_portfolio_for_owner_or_404(request, pk)
    upload = request.FILES.get("csv")
    if upload is None:
        raise PortalError(ERR_NO_CSV, code="invalid_body")
    rows = portfolios.portfolio_metadata(
        portfolio=portfolio, user=request.user, data=upload.read(portfolios.CSV_MAX_BYTES + 1)
    )
    return JsonResponse({"rows": rows})


@login_required
@require_POST
@wallet_json
def portfolio_typed_data(request, pk):
    """Close the portfolio to new works and answer the one message to sign (a POST: it changes
    the portfolio; asking again answers the same message)."""
    portfolio = portfolios.portfolio_seal(
        portfolio=get_portfolio_for_owner_or_404(request, pk), user=request.user
    )
    return JsonResponse({"address": portfolio.creator_address, "typedData": portfolio.typed_data})


@login_required
@require_POST
@wallet_json
def portfolio_sign(request, pk):
    (signature,) = json_fields(request, "signature")
    portfolio = portfolios.portfolio_sign(
        portfolio=get_portfolio_for_owner_or_404(request, pk), user=request.user, signature=signature
    )
    return JsonResponse({"status": portfolio.status, "count": portfolio.count})
