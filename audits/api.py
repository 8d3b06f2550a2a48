"""Dataset audits through the API: upload manifests and shards (multipart), follow progress,
read the matches, cancel. Audits are the key's organisation's; another's token answers 404."""

from datetime import datetime
from pathlib import Path
from typing import Annotated
from uuid import UUID

from django.conf import settings
from django.http import Http404
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from audits import selectors, services
from audits.models import Audit
from core.api import ERRORS, TEXT_INT, Scope, require_scope
from core.errors import PortalError
from works.validation import human_size

router = Router(tags=["audits"])
AT_LEAST_ONE_FILE = File(..., min_length=1, description="manifests (.parquet, .csv) and shards (.tar)")
ERR_TOO_LARGE = (
    "The upload is {size}; the limit is {limit}. Put large sets on the server and run audit_dataset."
)


class AuditIn(Schema):
    name: str = Field(..., min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$")
    sample: float = Field(1.0, gt=0, le=1, description="fraction audited, e.g. 0.001; 1 = everything")
    reveal_auditor: bool = Field(
        False, description="creators whose works are found may see your organisation's name"
    )


class EstimateOut(Schema):
    rows_sampled: int
    rows_total: int
    items_found: int
    registered_items: int
    ci95: list[int]


class ProblemOut(Schema):
    file: str
    part: int
    status: str
    message: str


class AuditOut(Schema):
    id: UUID
    name: str
    status: str
    sample: float
    created_at: datetime
    finished_at: datetime | None
    parts: int
    parts_finished: int
    rows_scanned: int
    images_hashed: int
    items_bad: int
    matches: int
    estimate: EstimateOut | None
    problems: list[ProblemOut]


class SourceOut(Schema):
    file: str
    row: int | None
    uid: str | None
    key: str | None
    url: str | None


class MatchOut(Schema):
    id: int
    work_id: int
    kind: str
    distance: int | None
    source: SourceOut


class MatchPage(Schema):
    matches: list[MatchOut]
    next_after: int | None


class MatchesQuery(Schema):
    after: Annotated[int, TEXT_INT] = Field(0, ge=0, le=2**53)
    limit: Annotated[int, TEXT_INT] = Field(500, ge=1, le=5000)


def _audit(request, token) -> Audit:
    audit = Audit.objects.filter(token=token, org=request.org).first()
    if audit is None:
        raise Http404("No such audit in your organisation.")
    return audit


def _out(audit: Audit) -> dict:
    p = selectors.progress(audit=audit)
    e = selectors.estimate(audit=audit)
    return {
        "id": audit.token,
        "name": audit.name,
        "status": audit.status,
        "sample": audit.sample,
        "created_at": audit.created_at,
        "finished_at": audit.finished_at,
        "parts": p.parts,
        "parts_finished": p.finished,
        "rows_scanned": p.rows_scanned,
        "images_hashed": p.images_hashed,
        "items_bad": p.items_bad,
        "matches": p.matches,
        "estimate": (
            {
                "rows_sampled": e.rows_sampled,
                "rows_total": e.rows_total,
                "items_found": e.items_found,
                "registered_items": e.estimate,
                "ci95": [e.low, e.high],
            }
            if e
            else None
        ),
        "problems": [
            {"file": part.input.name, "part": part.index, "status": part.status, "message": part.error}
            for part in audit.parts.exclude(error="").select_related("input").order_by("pk")[:100]
        ],
    }


@router.post(
    "/audits", response={202: AuditOut, **ERRORS}, summary="Audit manifests and shards (multipart upload)"
)
def audit_create(request, payload: Form[AuditIn], files: list[UploadedFile] = AT_LEAST_ONE_FILE):
    from audits.tasks import audit_start

    require_scope(request, Scope.READ)
    total = sum(f.size or 0 for f in files)
    if total > settings.AUDIT_UPLOAD_MAX_BYTES:
        raise PortalError(
            ERR_TOO_LARGE.format(size=human_size(total), limit=human_size(settings.AUDIT_UPLOAD_MAX_BYTES)),
            status=413,
            code="too_large",
        )
    audit = services.audit_from_uploads(
        uploads=files,
        staging=Path(settings.AUDIT_ROOT) / "uploads" / f"api-{request.api_key.pk}",
        name=payload.name,
        org=request.org,
        via=Audit.Via.API,
        sample=payload.sample,
        reveal_auditor=payload.reveal_auditor,
    )
    audit_start.delay(audit.pk)
    return Status(202, _out(audit))


@router.get("/audits/{token}", response={200: AuditOut, **ERRORS})
def audit_get(request, token: UUID):
    require_scope(request, Scope.READ)
    return _out(_audit(request, token))


@router.get("/audits/{token}/matches", response={200: MatchPage, **ERRORS})
def audit_matches(request, token: UUID, page: Query[MatchesQuery]):
    require_scope(request, Scope.READ)
    audit = _audit(request, token)
    rows = list(
        selectors.public_matches(audit=audit).filter(pk__gt=page.after).order_by("pk")[: page.limit + 1]
    )
    return {
        "matches": [selectors.match_json(m) for m in rows[: page.limit]],
        "next_after": rows[page.limit - 1].pk if len(rows) > page.limit else None,
    }


@router.post("/audits/{token}/cancel", response={200: AuditOut, **ERRORS})
def audit_cancel(request, token: UUID):
    require_scope(request, Scope.READ)
    audit = _audit(request, token)
    return _out(services.audit_cancel(audit=audit))
