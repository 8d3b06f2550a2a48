from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from audits import selectors, services
from audits.forms import AuditForm
from audits.models import Audit, AuditMatch
from core.errors import PortalError
from core.http import REFUSALS, refusal_words
from core.selectors import wallet_address_for_request
from core.spreadsheets import csv_response
from orgs.models import Membership
from training import services as training
from works.models import private_storage
from works.validation import human_size

ERR_TOO_LARGE = "The upload is {size}; the limit is {limit}. Use the API or the command line for larger sets."
PAGE = 100


def _audit_or_404(request, token) -> Audit:
    audit = Audit.objects.select_related("org", "user").filter(token=token).first()
    if audit is None or not selectors.audit_visible_to(audit, request.user):
        raise Http404("No such audit.")
    return audit


@login_required
def index(request):
    form = AuditForm(user=request.user)
    status, error = 200, ""
    if request.method == "POST":
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > settings.AUDIT_UPLOAD_MAX_BYTES:
            # refused before Django reads the body into temporary files
            error = ERR_TOO_LARGE.format(
                size=human_size(length), limit=human_size(settings.AUDIT_UPLOAD_MAX_BYTES)
            )
            status = 413
        else:
            form = AuditForm(request.POST, request.FILES, user=request.user)
            if form.is_valid():
                try:
                    audit = _start(request, form)
                except PortalError as exc:
                    form.add_error(None, exc.message)
                else:
                    return redirect(audit)
            status = 400
    return render(
        request,
        "audits/index.html",
        {
            "form": form,
            "error": error,
            "audits": selectors.audits_for(user=request.user).select_related("org")[:50],
        },
        status=status,
    )


def _start(request, form) -> Audit:
    from audits.tasks import audit_start

    org = None
    if form.cleaned_data["org"]:
        membership = Membership.objects.filter(user=request.user, org_id=form.cleaned_data["org"]).first()
        if membership is None:
            raise services.AuditError("You are not a member of that organisation.")
        org = membership.org
    session = request.session.session_key or "anonymous"
    audit = services.audit_from_uploads(
        uploads=form.cleaned_data["files"],
        staging=Path(settings.AUDIT_ROOT) / "uploads" / session,
        name=form.cleaned_data["name"],
        user=request.user,
        org=org,
        sample=float(form.cleaned_data["sample"] or 100) / 100,
        reveal_auditor=form.cleaned_data["reveal_auditor"],
    )
    audit_start.delay(audit.pk)
    return audit


def _context(request, audit):
    report = selectors.report(audit=audit)
    after = int(request.GET.get("after") or 0) if (request.GET.get("after") or "0").isdigit() else 0
    rows = selectors.match_rows(audit=audit, after=after, limit=PAGE + 1)
    can_quote = bool(audit.org_id) and audit.finished and report["by_status"].get("paid")
    return {
        "audit": audit,
        "report": report,
        "progress": report["progress"],
        "rows": rows[:PAGE],
        "next_after": rows[PAGE - 1].pk if len(rows) > PAGE else None,
        "statuses": report["statuses"],
        "can_quote": can_quote,
        "prohibited": [w for w, s in report["statuses"].items() if s == "prohibited"],
    }


@login_required
def detail(request, token):
    audit = _audit_or_404(request, token)
    return render(request, "audits/detail.html", _context(request, audit))


@login_required
def progress(request, token):
    audit = _audit_or_404(request, token)
    if audit.finished and request.htmx:
        response = render(
            request,
            "audits/partials/progress.html",
            {"audit": audit, "progress": selectors.progress(audit=audit)},
        )
        response["HX-Refresh"] = "true"  # the report replaces the progress bar
        return response
    return render(
        request,
        "audits/partials/progress.html",
        {"audit": audit, "progress": selectors.progress(audit=audit)},
    )


@login_required
@require_POST
def cancel(request, token):
    audit = _audit_or_404(request, token)
    try:
        services.audit_cancel(audit=audit, user=request.user)
        messages.success(request, "Audit cancelled: parts already checked are kept in the report.")
    except PortalError as exc:
        messages.error(request, exc.message)
    return redirect(audit)


@login_required
def evidence(request, token, pk):
    """The dataset image of a near-duplicate match (private to the audit's owners)."""

    audit = _audit_or_404(request, token)
    match = AuditMatch.objects.filter(audit=audit, pk=pk).exclude(evidence="").first()
    if match is None or not private_storage.exists(match.evidence):
        raise Http404("No such image.")
    response = FileResponse(private_storage.open(match.evidence, "rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
def export_json(request, token):
    audit = _audit_or_404(request, token)
    response = JsonResponse(selectors.audit_json(audit=audit), json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="audit-{audit.token}.json"'
    return response


@login_required
def export_csv(request, token):
    audit = _audit_or_404(request, token)
    statuses = selectors.report(audit=audit)["statuses"]

    def rows():
        yield [
            "work_id",
            "work_title",
            "creator_address",
            "kind",
            "distance",
            "training_terms",
            "file",
            "row",
            "uid",
            "key",
            "url",
        ]
        for m in (
            selectors.public_matches(audit=audit)
            .select_related("work")
            .order_by("pk")
            .iterator(chunk_size=2000)
        ):
            yield [
                m.work_id,
                m.work.title,
                m.work.creator_address,
                m.kind,
                "" if m.distance is None else m.distance,
                statuses.get(m.work_id, ""),
                m.source_file,
                "" if m.source_row is None else m.source_row,
                m.source_uid,
                m.source_key,
                m.source_url,
            ]

    return csv_response(rows(), filename=f"audit-{audit.token}.csv")


@login_required
@require_POST
def quote(request, token):
    """An organisation's audit: one training-licence quote for every unlicensed match whose terms
    are paid, through the AI-company quote; then the organisation pays it with its wallet."""

    audit = _audit_or_404(request, token)
    if not audit.org_id:
        raise Http404("Only an organisation's audit can be licensed here.")
    statuses = selectors.report(audit=audit)["statuses"]
    work_ids = sorted(w for w, s in statuses.items() if s == "paid")
    if not work_ids:
        messages.info(request, "Nothing to license: no unlicensed match has paid terms.")
        return redirect(audit)
    wallet = wallet_address_for_request(request)
    paying = set(audit.org.wallets.values_list("address", flat=True))
    try:
        settlement, lines = training.training_quote(
            org=audit.org,
            purpose="training",
            model_name=f"audit: {audit.name}"[:200],
            buyer_address=wallet if wallet in paying else None,
            work_ids=work_ids,
            currency=request.POST.get("currency") or None,
        )
    except REFUSALS as exc:
        messages.error(request, refusal_words(exc))
        return redirect(audit)
    if settlement is None:
        messages.info(
            request,
            "Nothing to pay: " + "; ".join(sorted({line.reason for line in lines if line.reason}))[:300],
        )
        return redirect(audit)
    return redirect("training:quote", audit.org.slug, settlement.settlement_id)
