from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import PortalError
from core.http import REFUSALS, form_refusal
from disputes import selectors, services
from disputes.flows import filing
from disputes.forms import DisputeForm, EvidenceForm, ReplyForm
from disputes.models import Evidence
from works.models import is_moderator
from works.shortcuts import get_public_work_or_404
from works.validation import human_size

ERR_BODY_TOO_LARGE = "The upload is {size}; a dispute's evidence may total at most {limit}."


def _dispute_or_404(request, pk):
    dispute = selectors.dispute_for(pk=pk, user=request.user)
    if dispute is None:
        raise Http404("No such dispute.")
    return dispute


def _body_too_large(request) -> str:
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    limit = settings.DISPUTE_EVIDENCE_TOTAL_BYTES + 1024 * 1024  # room for the form's fields
    if length > limit:
        return ERR_BODY_TOO_LARGE.format(
            size=human_size(length), limit=human_size(settings.DISPUTE_EVIDENCE_TOTAL_BYTES)
        )
    return ""


@login_required
def index(request):
    disputes = list(selectors.disputes_visible_to(request.user).order_by("-created_at")[:200])
    rows = [(d, *selectors.viewer_part(dispute=d, user=request.user)) for d in disputes]
    return render(
        request,
        "disputes/index.html",
        {"rows": rows, "moderator": is_moderator(request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def file(request, pk):
    work = get_public_work_or_404(pk)
    status, error = 200, ""
    if request.method == "POST":
        error = _body_too_large(request)  # refused before Django reads the body
        form = DisputeForm(
            None if error else request.POST, None if error else request.FILES, work=work, user=request.user
        )
        if error:
            status = 413
        elif form.is_valid():
            respondent, org = form.parties()
            try:
                dispute = filing.dispute_file(
                    user=request.user,
                    work=work,
                    kind=form.cleaned_data["kind"],
                    statement=form.cleaned_data["statement"],
                    files=form.cleaned_data["files"],
                    urls=form.urls(),
                    respondent=respondent,
                    respondent_org=org,
                )
            except REFUSALS as exc:
                status = form_refusal(form, exc)
            else:
                messages.success(request, "Filed. Both of you can add evidence and reply here.")
                return redirect(dispute)
        else:
            status = 400
    else:
        form = DisputeForm(work=work, user=request.user)
    return render(
        request,
        "disputes/file.html",
        {"form": form, "work": work, "error": error, "open_max": settings.DISPUTES_OPEN_MAX},
        status=status,
    )


ROLE_TEXT = {
    ("claimant", "filed"): "You filed this dispute: add evidence and reply until a moderator decides.",
    ("claimant", "hold"): (
        "The portal opened this dispute for you: a new registration matches your earlier work. "
        "Add evidence that the picture is yours; a moderator decides."
    ),
    ("respondent", "filed"): "This dispute is about your work or your use of it: add evidence and reply.",
    ("respondent", "hold"): (
        "Your registration was held because it matches an earlier work by another creator. "
        "Add evidence that the picture is yours or licensed to you, and reply; a moderator decides."
    ),
    ("moderator", "filed"): "You are a moderator: decide this dispute in admin.",
    ("moderator", "hold"): "You are a moderator: decide this dispute in admin.",
}


def _detail_context(request, dispute, **extra):
    evidence = selectors.dispute_evidence(dispute)
    role, outcome = selectors.viewer_part(dispute=dispute, user=request.user)
    return {
        "viewer_role": role,
        "viewer_role_text": ROLE_TEXT.get((role, dispute.source), ""),
        "outcome": outcome,
        "dispute": dispute,
        "work": dispute.work,
        "evidence": evidence,
        "events": selectors.dispute_timeline(dispute),
        "is_party": dispute.is_party(request.user),
        "evidence_form": EvidenceForm(),
        "reply_form": ReplyForm(),
        "revocation": getattr(dispute.work, "revocation", None) if dispute.revoked else None,
        **extra,
    }


@login_required
def detail(request, pk):
    dispute = _dispute_or_404(request, pk)
    return render(request, "disputes/detail.html", _detail_context(request, dispute))


def _refuse(request, dispute, exc_message: str, status: int, **forms):
    return render(
        request,
        "disputes/detail.html",
        _detail_context(request, dispute, error=exc_message, **forms),
        status=status,
    )


@login_required
@require_POST
def evidence_add(request, pk):
    dispute = _dispute_or_404(request, pk)
    too_large = _body_too_large(request)
    if too_large:
        return _refuse(request, dispute, too_large, 413)
    form = EvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        return _refuse(request, dispute, "Check the evidence form.", 400, evidence_form=form)
    try:
        services.evidence_add(
            dispute=dispute,
            user=request.user,
            files=form.cleaned_data["files"],
            urls=form.urls(),
            note=form.cleaned_data["note"],
        )
    except PortalError as exc:
        return _refuse(request, dispute, exc.message, exc.status, evidence_form=form)
    messages.success(request, "Evidence added; the other party has been told.")
    return redirect(dispute.get_absolute_url() + "#evidence")


@login_required
@require_POST
def reply(request, pk):
    dispute = _dispute_or_404(request, pk)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return _refuse(request, dispute, "Write a reply of up to 5,000 characters.", 400, reply_form=form)
    try:
        services.dispute_reply(dispute=dispute, user=request.user, text=form.cleaned_data["text"])
    except PortalError as exc:
        return _refuse(request, dispute, exc.message, exc.status, reply_form=form)
    messages.success(request, "Replied; the other party has been told.")
    return redirect(dispute.get_absolute_url() + "#timeline")


@login_required
def evidence_file(request, pk, evidence):
    dispute = _dispute_or_404(request, pk)
    item = Evidence.objects.filter(dispute=dispute, pk=evidence).exclude(file="").first()
    if item is None:
        raise Http404("No such evidence.")
    inline = item.kind == Evidence.Kind.FILE
    response = FileResponse(
        item.file.open("rb"),
        as_attachment=not inline,
        filename=item.original_name or "evidence",
        content_type=item.mime or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response
