"""Reads of the training app: the licences an organisation holds, the changes feed, what AI
companies bought of a person's works, a work's training uses, an organisation's page."""

from django.db.models import Prefetch, Q
from django.utils import timezone

from core.db import values_in
from licensing.models import CatalogueEntry, WorkTermsChange
from royalties.models import Settlement, SettlementLine
from training.models import Invoice, ManifestCheck, OrgWork, TrainingLicence, TrainingRun, TrainingRunWork
from works.models import Work


def held_licences(*, org, work_ids, model_name: str | None = None) -> dict[tuple[int, str], TrainingLicence]:
    """The org's valid training licences for these works that cover `model_name` (any model when
    None): (work id, purpose) -> the licence that lasts longest."""

    now = timezone.now()
    if not work_ids:
        return {}
    rows = (
        TrainingLicence.objects.filter(
            org=org, work_id__in=values_in(work_ids, kind="int"), status=TrainingLicence.Status.VALID
        )
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("expires_at")
    )
    return {(row.work_id, row.purpose): row for row in rows if row.covers(model_name)}


def training_sold_count(*, user) -> int:
    """AI companies' paid uses of a person's works: training licences bought and works of training
    runs whose invoice was paid (the earnings page lists the same sales)."""
    return (
        TrainingLicence.objects.filter(work__owner=user)
        .values("pk")
        .union(
            TrainingRunWork.objects.filter(work__owner=user, status=TrainingRunWork.Status.PAID).values("pk"),
            all=True,
        )
        .count()
    )


def training_sold_by(*, user) -> tuple[list, list]:
    """AI companies' paid uses of a person's works, newest first: training licences and the works
    of paid training-run invoices."""
    licences = list(
        TrainingLicence.objects.filter(work__owner=user)
        .select_related("work", "org", "settlement")
        .order_by("-issued_at")[:200]
    )
    invoiced = list(
        TrainingRunWork.objects.filter(work__owner=user, status=TrainingRunWork.Status.PAID)
        .select_related("work", "run__org", "invoice")
        .order_by("-invoice__paid_at")[:200]
    )
    return licences, invoiced


def training_uses_for_work(*, work, address: str | None, limit: int = 100) -> list[dict]:
    """Every training run that used this work: organisation, model, run, date, its status, and
    what was paid to `address` for this work in that run's licence or invoice."""
    rows = list(
        TrainingRunWork.objects.filter(work=work)
        .select_related("run__org", "licence__settlement", "invoice__settlement")
        .order_by("-run__reported_at")[:limit]
    )

    def settlement_of(row) -> Settlement | None:
        if row.licence_id:
            return row.licence.settlement
        if row.invoice_id and row.invoice.status == Invoice.Status.PAID:
            return row.invoice.settlement
        return None

    settlements = {row.pk: settlement_of(row) for row in rows}
    paid: dict[int, int] = {}
    if address and (ids := {s.pk for s in settlements.values() if s}):
        for settlement_id, amount in SettlementLine.objects.filter(
            settlement_id__in=ids, work=work, payee=address
        ).values_list("settlement_id", "amount"):
            paid[settlement_id] = paid.get(settlement_id, 0) + amount
    uses = []
    for row in rows:
        settlement = settlements[row.pk]
        uses.append(
            {
                "org": row.run.org.name,
                "model": f"{row.run.model_name} {row.run.model_version}".strip(),
                "run_id": row.run.run_id,
                "reported_at": row.run.reported_at,
                "status": row.status,
                "status_label": row.get_status_display(),
                "paid_to_you": paid.get(settlement.pk, 0) if settlement else 0,
                "currency": settlement.currency if settlement else "ETH",
            }
        )
    return uses


def changes_for(*, org, after: int = 0, limit: int = 500) -> list[WorkTermsChange]:
    """Terms changes and consent withdrawals of works this org checked or licensed."""
    watched = OrgWork.objects.filter(org=org).values("work_id")
    return list(
        WorkTermsChange.objects.filter(pk__gt=after, work_id__in=watched).order_by("pk")[
            : max(1, min(limit, 1000))
        ]
    )


def org_training(*, org) -> dict:
    """An organisation's page: its training licences, runs and invoices (the newest 20 of each) and
    their counts."""
    return {
        "licence_count": TrainingLicence.objects.filter(org=org, status=TrainingLicence.Status.VALID).count(),
        "run_count": TrainingRun.objects.filter(org=org).count(),
        "open_invoice_count": Invoice.objects.filter(org=org, status=Invoice.Status.OPEN).count(),
        "licences": TrainingLicence.objects.filter(org=org)
        .select_related("work", "org", "settlement")
        .order_by("-issued_at")[:20],
        "runs": TrainingRun.objects.filter(org=org).order_by("-reported_at")[:20],
        "invoices": Invoice.objects.filter(org=org).select_related("run").order_by("-created_at")[:20],
    }


# ------------------------------------------------------------------ the AI API's reads (training/api.py)
# Each takes the requesting key's organisation: another organisation's id is never found.


def manifest_check_for(*, org, pk: int) -> ManifestCheck | None:
    return ManifestCheck.objects.filter(org=org, pk=pk).first()


def training_quote_for(*, org, settlement_id: str) -> Settlement | None:
    return Settlement.objects.filter(
        org=org, settlement_id=settlement_id.lower(), purpose=Settlement.Purpose.TRAINING_LICENCE
    ).first()


def _licences(org):
    return TrainingLicence.objects.filter(org=org).select_related("settlement", "org")


def licences_page(*, org, after: int, limit: int) -> list[TrainingLicence]:
    return list(_licences(org).filter(pk__gt=after).order_by("pk")[:limit])


def licence_for(*, org, pk: int) -> TrainingLicence | None:
    return _licences(org).filter(pk=pk).first()


def _runs(org):
    """Runs with their invoices, their settlements and their works: no query per run."""
    return TrainingRun.objects.filter(org=org).prefetch_related(
        Prefetch("invoices", queryset=Invoice.objects.select_related("run", "settlement")), "works"
    )


def runs_page(*, org, after: int, limit: int) -> list[TrainingRun]:
    return list(_runs(org).filter(pk__gt=after).order_by("pk")[:limit])


def run_for(*, org, pk: int) -> TrainingRun | None:
    return _runs(org).filter(pk=pk).first()


def _invoices(org):
    return Invoice.objects.filter(org=org).select_related("run", "settlement").prefetch_related("lines")


def invoices_page(*, org, after: int, limit: int) -> list[Invoice]:
    return list(_invoices(org).filter(pk__gt=after).order_by("pk")[:limit])


def invoice_for(*, org, pk: int) -> Invoice | None:
    return _invoices(org).filter(pk=pk).first()


def public_work_terms(*, work_id: int) -> tuple[Work, CatalogueEntry | None] | None:
    """A public work and its catalogue entry (None: it offers nothing), or None."""
    work = Work.objects.public().filter(pk=work_id).select_related("catalogue").first()
    if work is None:
        return None
    return work, getattr(work, "catalogue", None)
