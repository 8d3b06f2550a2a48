import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from licensing import rights
from licensing.selectors import offers_for_work
from licensing.services import OFFERABLE
from portal.chain.client import get_web3
from portal.chain.contracts import ContractNotDeployed
from portal.selectors import wallet_address_for_user
from works import selectors, services
from works.fingerprints import sha256_of
from works.forms import UploadForm, VerifyForm
from works.verification import provenance_check

ERR_NO_WALLET = "Your account has no wallet address; sign in with your wallet first."
ERR_CHAIN_DOWN = (
    "The chain is not reachable right now, so the registration cannot be prepared; try again shortly."
)


def _get_work_for_owner(request, pk):
    work = selectors.work_with_provenance(pk=pk)
    if work is None or work.owner_id != request.user.pk:
        raise Http404("No such work.")
    return work


def _get_public_work(pk):
    work = selectors.work_with_provenance(pk=pk)
    if work is None or work.registration.status == work.registration.Status.AWAITING_SIGNATURE:
        raise Http404("No such work.")
    return work


@login_required
@require_http_methods(["GET", "POST"])
def upload(request):
    form = UploadForm(
        request.POST or None, request.FILES or None, files_sent=len(request.FILES.getlist("file"))
    )
    if request.method == "POST" and form.is_valid():
        address = wallet_address_for_user(user=request.user)
        if not address:
            form.add_error(None, ERR_NO_WALLET)
        else:
            work = services.work_upload(
                user=request.user,
                creator_address=address,
                file=form.cleaned_data["file"],
                title=form.cleaned_data["title"],
                description=form.cleaned_data["description"],
                tags=form.cleaned_data["tags"],
            )
            messages.success(request, "Uploaded. Now sign the registration with your wallet.")
            return redirect(work)
    return render(request, "works/upload.html", {"form": form}, status=400 if form.errors else 200)


def _get_visible_work(request, pk):
    """Anyone sees a signed work; only its creator sees a draft awaiting their signature."""
    work = selectors.work_with_provenance(pk=pk)
    if work is None:
        raise Http404("No such work.")
    is_owner = request.user.is_authenticated and work.owner_id == request.user.pk
    if not is_owner and work.registration.status == work.registration.Status.AWAITING_SIGNATURE:
        raise Http404("No such work.")
    return work, is_owner


def detail(request, pk):
    work, is_owner = _get_visible_work(request, pk)
    offers = offers_for_work(work=work)
    response = render(
        request,
        "works/detail.html",
        {
            "work": work,
            "registration": work.registration,
            "is_owner": is_owner,
            "offers": offers,
            "can_offer": work.registration.status in OFFERABLE,
            "json_ld": rights.json_ld(request=request, work=work, offers=offers),
        },
    )
    return rights.rights_headers(response, request=request, work=work)


def status(request, pk):
    work, _ = _get_visible_work(request, pk)
    return render(request, "works/partials/status.html", {"work": work, "registration": work.registration})


@login_required
@require_GET
def typed_data(request, pk):
    work = _get_work_for_owner(request, pk)
    try:
        payload = services.registration_typed_data(registration=work.registration)
    except (ContractNotDeployed, ConnectionError, OSError) as exc:
        return JsonResponse(
            {"error": ERR_CHAIN_DOWN if not isinstance(exc, ContractNotDeployed) else str(exc)}, status=503
        )
    return JsonResponse({"address": work.creator_address, "typedData": payload})


@login_required
@require_POST
def sign(request, pk):
    work = _get_work_for_owner(request, pk)
    try:
        signature = json.loads(request.body)["signature"]
        if not isinstance(signature, str):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": 'Send JSON {"signature": "0x..."}.'}, status=400)
    try:
        registration = services.registration_sign(registration=work.registration, signature=signature)
    except services.RegistrationError as exc:
        return JsonResponse({"error": exc.message}, status=400)
    except (ContractNotDeployed, ConnectionError, OSError):
        return JsonResponse({"error": ERR_CHAIN_DOWN}, status=503)
    return JsonResponse({"status": registration.status, "label": registration.get_status_display()})


@login_required
def original(request, pk):
    work = _get_work_for_owner(request, pk)
    return FileResponse(
        work.original.open("rb"), as_attachment=True, filename=work.original_name or "original"
    )


def provenance_json(request, pk):
    work = _get_public_work(pk)
    response = JsonResponse(selectors.provenance_document(work=work), json_dumps_params={"indent": 2})
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_http_methods(["GET", "POST"])
def verify(request):
    bound = request.method == "POST"
    form = VerifyForm(request.POST if bound else None, request.FILES if bound else None)
    results, near, sha256 = None, [], None
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data.get("file"):
            uploaded = form.cleaned_data["file"]
            sha256 = sha256_of(uploaded)
            near = _near_for_upload(uploaded, sha256)
        else:
            sha256 = form.cleaned_data["sha256"].lower().removeprefix("0x")
        results = _check_registrations(sha256)
    return render(
        request,
        "works/verify.html",
        {"form": form, "results": results, "near": near, "sha256": sha256},
        status=400 if form.errors else 200,
    )


def _near_for_upload(uploaded, sha256):
    from PIL import Image

    from works.fingerprints import pdq_image
    from works.validation import InvalidImage, image_check

    try:
        checked = image_check(uploaded)
        with Image.open(uploaded, formats=[checked.format]) as image:
            pdq, _ = pdq_image(image)
    except InvalidImage:
        return []
    return [m for m in services.near_matches(sha256=sha256, pdq=pdq) if not m["exact"]]


def _check_registrations(sha256):
    from portal.chain.client import ChainUnavailable, chain_check

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
