"""The AI-company API: manifest checks, training licence quotes, licences, training runs,
invoices, the changes feed and a work's terms. Every object is reached through the requesting
key's organisation: another organisation's id answers 404."""

import json
from datetime import UTC, datetime
from typing import Annotated, Literal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse
from ninja import Body, Field, Path, Query, Router, Schema
from ninja.responses import Status
from pydantic import BaseModel, StringConstraints, WithJsonSchema
from typing_extensions import TypedDict

from core.api import ERRORS, JSON_DATETIME, JSON_INT, TEXT_INT, Scope, require_scope
from core.errors import PortalError
from royalties.models import Settlement
from royalties.settlement import settlement_transaction
from training import selectors, services
from training.models import Invoice, ManifestCheck, Purpose, TrainingLicence, TrainingRun
from works import hooks

router = Router()
Id = Annotated[int, Field(ge=1, le=2**53), JSON_INT]  # in a JSON body
PathId = Annotated[int, Field(ge=1, le=2**53), TEXT_INT]  # in the path: text by nature
Hex64 = Annotated[str, StringConstraints(pattern=r"^(0x)?[0-9a-fA-F]{64}$")]
Address = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{40}$")]
Text = Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$")
]
PurposeName = Literal["training", "generative_training"]
Currency = Literal["ETH", settings.STABLECOIN_SYMBOL]  # what a price or payment is in
CURRENCY_NOTE = "ETH (amounts in wei) or the stablecoin (amounts in its smallest unit)"
_WORK_ID_KEY = r"^[0-9]{1,15}$"
# {"<work id>": count}: counts are integers (never true/false or "3"), keys work ids; stated in
# the schema too (pydantic alone writes patternProperties, which lets any other key through).
Samples = Annotated[
    dict[
        Annotated[str, StringConstraints(pattern=_WORK_ID_KEY)],
        Annotated[int, Field(ge=0, le=2**62), JSON_INT],
    ],
    WithJsonSchema(
        {
            "type": "object",
            "patternProperties": {_WORK_ID_KEY: {"type": "integer", "minimum": 0, "maximum": 2**62}},
            "additionalProperties": False,
        }
    ),
]
ERR_NO_SUCH = "No such {what} in your organisation."


def _found(obj, what):
    if obj is None:
        raise Http404(ERR_NO_SUCH.format(what=what))
    return obj


# ------------------------------------------------------------------ manifest checks
# Items and results are plain pydantic models, not ninja Schemas: ninja's Django-object getter
# runs per nested object, which costs more than the check itself on a 10,000-item manifest.


class ManifestItem(TypedDict, total=False):
    """A dict, not a model: 10,000 of them validate in a few milliseconds."""

    ref: Annotated[Text | None, Field(description="your own identifier, echoed back (e.g. the dataset uid)")]
    sha256: Annotated[Hex64 | None, Field(description="SHA-256 of the file, 64 hex digits")]
    url: Annotated[str, StringConstraints(max_length=2000, pattern=r"^[^\x00-\x1f\x7f]*$")] | None
    pdq: Annotated[Hex64 | None, Field(description="PDQ hash, 64 hex digits")]


class ManifestIn(BaseModel):
    items: list[ManifestItem] = Field(..., min_length=1, max_length=services.MAX_ITEMS)
    model_name: Name | None = Field(
        None,
        description="the model you will train: `licensed` then means a licence that covers it "
        "(by default, a licence for any model)",
    )


class ManifestMatchOut(BaseModel):
    work_id: int
    title: str
    creator_address: str
    kind: Literal["sha256", "url", "pdq"]
    distance: int | None


class PurposeTermsOut(BaseModel):
    status: Literal["prohibited", "free", "paid"]
    price_wei: str = Field(description="in the smallest unit of `currency`")
    currency: Currency = Field("ETH", description=CURRENCY_NOTE)
    licensed: bool
    licensed_until: datetime | None


class ManifestResult(BaseModel):
    index: int
    ref: str | None = Field(description="your identifier, as sent")
    sha256: str | None = Field(description="the item's sha256 as sent (lower case, no 0x), if any")
    url: str | None = Field(description="the item's URL as sent, if any")
    pdq: str | None = Field(description="the item's PDQ hash as sent (lower case, no 0x), if any")
    match: ManifestMatchOut | None
    terms: dict[str, PurposeTermsOut] | None = None
    in_dispute: bool | None = None
    exclude: bool


class ManifestCheckOut(Schema):
    id: int
    items: int
    matched: int
    created_at: datetime
    results: list[ManifestResult]


def _check_out(check: ManifestCheck) -> HttpResponse:
    """The check as JSON, its stored results spliced in as stored: 10,000 results are neither
    parsed nor re-validated (they were built to the schema; the schemathesis test holds every
    response to it)."""
    head = json.dumps(
        {"id": check.pk, "items": check.items, "matched": check.matched, "created_at": check.created_at},
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
    )
    body = b"".join((head[:-1].encode(), b',"results":', check.results_json, b"}"))
    return HttpResponse(body, content_type="application/json")


@router.post(
    "/manifest-checks",
    response={200: ManifestCheckOut, **ERRORS},
    tags=["manifests"],
    summary="Check up to 10,000 dataset items against the registry",
)
def manifest_check_create(request, payload: ManifestIn):
    require_scope(request, Scope.READ)
    check = services.manifest_check(
        org=request.org, key=request.api_key, items=payload.items, model_name=payload.model_name
    )
    return _check_out(check)


@router.get("/manifest-checks/{check_id}", response={200: ManifestCheckOut, **ERRORS}, tags=["manifests"])
def manifest_check_get(request, check_id: Path[PathId]):
    require_scope(request, Scope.READ)
    return _check_out(_found(selectors.manifest_check_for(org=request.org, pk=check_id), "manifest check"))


# ------------------------------------------------------------------ training licence quotes


class QuoteIn(Schema):
    purpose: PurposeName
    model_name: Name
    buyer_address: Address | None = Field(
        None, description="one of the organisation's paying wallets (default: its only one)"
    )
    work_ids: list[Id] | None = Field(None, max_length=services.MAX_ITEMS)
    manifest_check_id: Id | None = None
    currency: Currency | None = Field(
        None,
        description="what the settlement is paid in (default: ETH when any work is priced in ETH, "
        "else the stablecoin); works priced in the other currency are refused with the reason",
    )


class ApprovalOut(Schema):
    sender: str
    to: str = Field(..., description="the stablecoin")
    data: str = Field(..., description="approve(market, exactly the price)")


class TransactionOut(Schema):
    sender: str = Field(..., description="the wallet that must send it")
    to: str
    data: str
    value: str = Field(..., description="wei, hex")
    chain_id: str
    approval: ApprovalOut | None = Field(
        None, description="for a payment in the stablecoin: send this approval first, from the same wallet"
    )


class QuoteLineOut(Schema):
    work_id: int
    status: Literal["quoted", "free", "refused"]
    price_wei: str = Field(description="in the smallest unit of the quote's currency")
    reason: str


class QuoteOut(Schema):
    settlement_id: str | None
    purpose: PurposeName
    model_name: str
    currency: Currency = Field(description=CURRENCY_NOTE)
    total_wei: str
    expiry: int | None
    status: Literal["open", "paid", "expired", "nothing_to_pay"]
    lines: list[QuoteLineOut]
    transaction: TransactionOut | None


def _transaction(settlement: Settlement) -> dict | None:
    if settlement.status != Settlement.Status.OPEN:
        return None
    try:
        tx = settlement_transaction(settlement=settlement)
    except PortalError:
        return None
    approval = tx.get("approval")
    return {
        "sender": tx["from"],
        "to": tx["to"],
        "data": tx["data"],
        "value": tx["value"],
        "chain_id": tx["chainId"],
        "approval": {"sender": approval["from"], "to": approval["to"], "data": approval["data"]}
        if approval
        else None,
    }


def _quote_out(settlement, lines, purpose, model_name, currency="ETH") -> dict:
    return {
        "settlement_id": settlement.settlement_id if settlement else None,
        "purpose": purpose,
        "model_name": model_name,
        "currency": settlement.currency if settlement else currency,
        "total_wei": str(settlement.price_wei if settlement else 0),
        "expiry": settlement.expiry if settlement else None,
        "status": settlement.status if settlement else "nothing_to_pay",
        "lines": [
            {
                "work_id": line.work_id,
                "status": line.status,
                "price_wei": str(line.price_wei),
                "reason": line.reason,
            }
            for line in lines
        ],
        "transaction": _transaction(settlement) if settlement else None,
    }


@router.post(
    "/training-quotes",
    response={200: QuoteOut, **ERRORS},
    tags=["training licences"],
    summary="Quote one training licence for many works, paid in one transaction",
)
def training_quote_create(request, payload: QuoteIn):
    require_scope(request, Scope.LICENSE)
    settlement, lines = services.training_quote(
        org=request.org,
        purpose=payload.purpose,
        model_name=payload.model_name.strip(),
        buyer_address=payload.buyer_address,
        work_ids=payload.work_ids,
        manifest_check_id=payload.manifest_check_id,
        currency=payload.currency,
    )
    currency = lines[0].currency if lines else "ETH"
    return _quote_out(settlement, lines, payload.purpose, payload.model_name.strip(), currency)


@router.get(
    "/training-quotes/{settlement_id}", response={200: QuoteOut, **ERRORS}, tags=["training licences"]
)
def training_quote_get(request, settlement_id: Path[Hex64]):
    require_scope(request, Scope.READ)
    settlement = _found(selectors.training_quote_for(org=request.org, settlement_id=settlement_id), "quote")
    prices = dict(settlement.lines.values_list("work_id", "work_price_wei").distinct())
    lines = [services.QuoteLine(w, "quoted", price_wei=int(p)) for w, p in prices.items()]
    lines += [services.QuoteLine(r["work_id"], "refused", reason=r["reason"]) for r in settlement.refused]
    return _quote_out(settlement, lines, settlement.training_purpose, settlement.model_name)


# ------------------------------------------------------------------ licences


class LicenceOut(Schema):
    id: int
    work_id: int
    purpose: PurposeName
    model_name: str
    model_scope: Literal["model", "family", "organisation"] = Field(
        description="model: the named model, every version; family: it and models whose name "
        "extends it (painter → painter-2, painter/xl); organisation: any model you train"
    )
    grants: str = Field(description="what the licence covers, in words")
    price_wei: str = Field(description="in the smallest unit of `currency`")
    currency: Currency = Field(description=CURRENCY_NOTE)
    status: Literal["valid", "void"]
    issued_at: datetime
    expires_at: datetime | None
    settlement_id: str


def _licence_out(row: TrainingLicence) -> dict:
    return {
        "id": row.pk,
        "work_id": row.work_id,
        "purpose": row.purpose,
        "model_name": row.model_name,
        "model_scope": row.model_scope,
        "grants": row.grants,
        "price_wei": str(row.price_wei),
        "currency": row.settlement.currency,
        "status": row.status,
        "issued_at": row.issued_at,
        "expires_at": row.expires_at,
        "settlement_id": row.settlement.settlement_id,
    }


class PageQuery(Schema):
    after: Annotated[int, TEXT_INT] = Field(0, ge=0, le=2**53, description="the last id of the previous page")
    limit: Annotated[int, TEXT_INT] = Field(100, ge=1, le=500)


@router.get("/licences", response={200: list[LicenceOut], **ERRORS}, tags=["training licences"])
def licences_list(request, page: Query[PageQuery]):
    require_scope(request, Scope.READ)
    rows = selectors.licences_page(org=request.org, after=page.after, limit=page.limit)
    return [_licence_out(row) for row in rows]


@router.get("/licences/{licence_id}", response={200: LicenceOut, **ERRORS}, tags=["training licences"])
def licence_get(request, licence_id: Path[PathId]):
    require_scope(request, Scope.READ)
    return _licence_out(_found(selectors.licence_for(org=request.org, pk=licence_id), "licence"))


# ------------------------------------------------------------------ training runs and invoices


class RunWorksIn(Schema):
    ids: list[Id] | None = Field(None, max_length=100_000)
    sha256: list[Hex64] | None = Field(None, max_length=100_000)
    manifest_check_id: Id | None = None


class RunIn(Schema):
    run_id: Name
    model_name: Name
    model_version: Text = ""
    purpose: PurposeName = "training"
    started_at: Annotated[datetime, JSON_DATETIME] | None = None
    ended_at: Annotated[datetime, JSON_DATETIME] | None = None
    works: RunWorksIn
    samples: Samples | None = Field(None, description="samples per work id")


class RunWorkOut(Schema):
    work_id: int
    status: Literal["licensed", "invoiced", "violation", "free", "paid"]
    price_wei: str = Field(description="in the smallest unit of its invoice's currency")
    currency: Currency | None = Field(description="its invoice's currency (none: not invoiced)")
    samples: int | None


class InvoiceLineOut(Schema):
    work_id: int
    price_wei: str


class InvoiceOut(Schema):
    id: int
    run_id: str
    currency: Currency = Field(description=CURRENCY_NOTE)
    total_wei: str
    status: Literal["open", "paid"]
    created_at: datetime
    paid_at: datetime | None
    settlement_id: str | None
    lines: list[InvoiceLineOut]


class RunOut(Schema):
    id: int
    run_id: str
    model_name: str
    model_version: str
    purpose: PurposeName
    reported_at: datetime
    counts: dict[str, int]
    unmatched: list[str]
    works: list[RunWorkOut]
    invoices: list[InvoiceOut] = Field(description="one per currency the unlicensed works are priced in")
    invoice: InvoiceOut | None = Field(description="the first of `invoices` (kept for older clients)")


def _invoice_out(invoice: Invoice, run_works=None) -> dict:
    """`run_works`: the run's rows when already loaded (a list of runs), else one query."""
    if run_works is None:
        lines = list(invoice.lines.all())
    else:
        lines = [row for row in run_works if row.invoice_id == invoice.pk]
    return {
        "id": invoice.pk,
        "run_id": invoice.run.run_id,
        "currency": invoice.currency,
        "total_wei": str(invoice.total_wei),
        "status": invoice.status,
        "created_at": invoice.created_at,
        "paid_at": invoice.paid_at,
        "settlement_id": invoice.settlement.settlement_id if invoice.settlement_id else None,
        "lines": [{"work_id": row.work_id, "price_wei": str(row.price_wei)} for row in lines],
    }


def _run_out(run: TrainingRun) -> dict:
    """One run as the API shows it; load runs through training.selectors (no query per run)."""
    rows = list(run.works.all())
    counts = {status: 0 for status in ("licensed", "invoiced", "violation", "free", "paid")}
    for row in rows:
        counts[row.status] += 1
    invoices = sorted(run.invoices.all(), key=lambda i: i.pk)
    currency_of = {i.pk: i.currency for i in invoices}
    return {
        "id": run.pk,
        "run_id": run.run_id,
        "model_name": run.model_name,
        "model_version": run.model_version,
        "purpose": run.purpose,
        "reported_at": run.reported_at,
        "counts": counts,
        "unmatched": run.unmatched,
        "works": [
            {
                "work_id": r.work_id,
                "status": r.status,
                "price_wei": str(r.price_wei),
                "currency": currency_of.get(r.invoice_id),
                "samples": r.samples,
            }
            for r in rows
        ],
        "invoices": [_invoice_out(i, rows) for i in invoices],
        "invoice": _invoice_out(invoices[0], rows) if invoices else None,
    }


def _in_utc(value: datetime | None, field: str) -> datetime | None:
    """An RFC 3339 time in UTC: an offset such as -23:41 is valid RFC 3339 but out of
    PostgreSQL's range (±15:59), and a naive time is read as UTC."""
    if value is None:
        return None
    try:
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except OverflowError:
        raise PortalError(f"{field} is out of range.", code="invalid_time") from None


@router.post(
    "/runs",
    response={200: RunOut, 201: RunOut, **ERRORS},
    tags=["training runs"],
    summary="Report a training run (idempotent on run_id)",
)
def run_create(request, payload: RunIn):
    require_scope(request, Scope.REPORT)
    started_at, ended_at = _in_utc(payload.started_at, "started_at"), _in_utc(payload.ended_at, "ended_at")
    run, created = services.run_report(
        org=request.org,
        run_id=payload.run_id.strip(),
        model_name=payload.model_name.strip(),
        model_version=payload.model_version,
        purpose=payload.purpose,
        started_at=started_at,
        ended_at=ended_at,
        work_ids=payload.works.ids,
        sha256s=payload.works.sha256,
        manifest_check_id=payload.works.manifest_check_id,
        samples=payload.samples,
    )
    return Status(201 if created else 200, _run_out(run))


@router.get("/runs", response={200: list[RunOut], **ERRORS}, tags=["training runs"])
def runs_list(request, page: Query[PageQuery]):
    require_scope(request, Scope.READ)
    runs = selectors.runs_page(org=request.org, after=page.after, limit=min(page.limit, 50))
    return [_run_out(run) for run in runs]


@router.get("/runs/{run_pk}", response={200: RunOut, **ERRORS}, tags=["training runs"])
def run_get(request, run_pk: Path[PathId]):
    require_scope(request, Scope.READ)
    return _run_out(_found(selectors.run_for(org=request.org, pk=run_pk), "training run"))


@router.get("/invoices", response={200: list[InvoiceOut], **ERRORS}, tags=["invoices"])
def invoices_list(request, page: Query[PageQuery]):
    require_scope(request, Scope.READ)
    rows = selectors.invoices_page(org=request.org, after=page.after, limit=min(page.limit, 100))
    return [_invoice_out(row, list(row.lines.all())) for row in rows]


@router.get("/invoices/{invoice_id}", response={200: InvoiceOut, **ERRORS}, tags=["invoices"])
def invoice_get(request, invoice_id: Path[PathId]):
    require_scope(request, Scope.READ)
    return _invoice_out(_found(selectors.invoice_for(org=request.org, pk=invoice_id), "invoice"))


class PaymentIn(Schema):
    buyer_address: Address | None = Field(
        None, description="one of the organisation's paying wallets (default: its only one)"
    )


class PaymentOut(Schema):
    settlement_id: str
    currency: Currency = Field(description=CURRENCY_NOTE)
    total_wei: str
    expiry: int
    transaction: TransactionOut | None


@router.post("/invoices/{invoice_id}/payment", response={200: PaymentOut, **ERRORS}, tags=["invoices"])
def invoice_pay(request, invoice_id: Path[PathId], payload: Body[PaymentIn | None] = None):
    require_scope(request, Scope.LICENSE)
    invoice = _found(selectors.invoice_for(org=request.org, pk=invoice_id), "invoice")
    settlement = services.invoice_payment(
        invoice=invoice, buyer_address=payload.buyer_address if payload else None
    )
    return {
        "settlement_id": settlement.settlement_id,
        "currency": settlement.currency,
        "total_wei": str(settlement.price_wei),
        "expiry": settlement.expiry,
        "transaction": _transaction(settlement),
    }


# ------------------------------------------------------------------ changes and terms


class ChangeOut(Schema):
    id: int
    work_id: int
    kind: Literal["terms_changed", "consent_withdrawn", "delisted"]
    training: Literal["prohibited", "free", "paid"]
    training_price_wei: str = Field(description="in the smallest unit of `training_currency`")
    training_currency: Currency
    generative_training: Literal["prohibited", "free", "paid"]
    generative_training_price_wei: str = Field(
        description="in the smallest unit of `generative_training_currency`"
    )
    generative_training_currency: Currency
    at: datetime


class ChangesOut(Schema):
    changes: list[ChangeOut]
    next_cursor: int


@router.get(
    "/changes",
    response={200: ChangesOut, **ERRORS},
    tags=["changes"],
    summary="Terms changes and consent withdrawals of works you checked or licensed",
)
def changes(request, page: Query[PageQuery]):
    require_scope(request, Scope.READ)
    rows = selectors.changes_for(org=request.org, after=page.after, limit=page.limit)
    return {
        "changes": [
            {
                "id": row.pk,
                "work_id": row.work_id,
                "kind": row.kind,
                "training": row.training,
                "training_price_wei": str(row.training_price_wei),
                "training_currency": row.training_currency,
                "generative_training": row.generative_training,
                "generative_training_price_wei": str(row.generative_training_price_wei),
                "generative_training_currency": row.generative_training_currency,
                "at": row.at,
            }
            for row in rows
        ],
        "next_cursor": rows[-1].pk if rows else page.after,
    }


class WorkTermsOut(Schema):
    work_id: int
    title: str
    creator_address: str
    sha256: str
    in_dispute: bool
    training: PurposeTermsOut
    generative_training: PurposeTermsOut


@router.get("/works/{work_id}/terms", response={200: WorkTermsOut, **ERRORS}, tags=["works"])
def work_terms(request, work_id: Path[PathId]):

    require_scope(request, Scope.READ)
    found = selectors.public_work_terms(work_id=work_id)
    if found is None:
        raise Http404("No public work with this id.")
    work, entry = found
    held = selectors.held_licences(org=request.org, work_ids=[work.pk])
    out = {
        "work_id": work.pk,
        "title": work.title,
        "creator_address": work.creator_address,
        "sha256": work.sha256,
        "in_dispute": work.pk in hooks.works_in_registration_dispute(work_ids=[work.pk]),
    }
    for purpose in (Purpose.TRAINING, Purpose.GENERATIVE):
        status, price, _, currency = services.purpose_terms(entry, purpose)
        licence = held.get((work.pk, purpose.value))
        out[purpose.value] = {
            "status": status,
            "price_wei": str(price),
            "currency": currency,
            "licensed": licence is not None,
            "licensed_until": licence.expires_at if licence else None,
        }
    return out
