"""Reads for dataset audits: progress, totals, the report, its exports, the sampling estimate,
and what creators see of audits that found their works."""

import math
from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, Q, Sum

from audits.models import Audit, AuditMatch, AuditPart
from licensing.models import CatalogueEntry
from orgs.models import Membership
from training.services import held_licences
from works.models import Work

Z95 = 1.959963984540054


def audits_for(*, user):
    """Audits the user ran or that an organisation they belong to ran."""

    orgs = Membership.objects.filter(user=user).values("org_id")
    return Audit.objects.filter(Q(user=user) | Q(org_id__in=orgs))


def audit_visible_to(audit: Audit, user) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if audit.user_id == user.pk:
        return True
    return audit.org_id is not None and audit.org.memberships.filter(user=user).exists()


@dataclass
class Progress:
    parts: int
    finished: int
    failed: int
    rows_scanned: int
    rows_total: int
    images_hashed: int
    items_bad: int
    matches: int

    @property
    def percent(self) -> int:
        return int(100 * self.finished / self.parts) if self.parts else 0


def progress(*, audit: Audit) -> Progress:
    totals = audit.parts.aggregate(
        parts=Count("pk"),
        finished=Count(
            "pk",
            filter=Q(status__in=[AuditPart.Status.DONE, AuditPart.Status.FAILED, AuditPart.Status.CANCELLED]),
        ),
        failed=Count("pk", filter=Q(status=AuditPart.Status.FAILED)),
        rows_scanned=Sum("rows_scanned"),
        rows_total=Sum("rows_total"),
        images_hashed=Sum("images_hashed"),
        items_bad=Sum("items_bad"),
    )
    return Progress(
        parts=totals["parts"] or 0,
        finished=totals["finished"] or 0,
        failed=totals["failed"] or 0,
        rows_scanned=totals["rows_scanned"] or 0,
        rows_total=totals["rows_total"] or 0,
        images_hashed=totals["images_hashed"] or 0,
        items_bad=totals["items_bad"] or 0,
        matches=public_matches(audit=audit).count(),
    )


def public_matches(*, audit: Audit):
    """Matches (copies: exact bytes, URL, near-duplicate) of works that are public now: a work
    withdrawn since never shows."""
    return AuditMatch.objects.filter(audit=audit, work__in=Work.objects.public()).exclude(
        kind=AuditMatch.Kind.SIMILAR
    )


def similar_matches(*, audit: Audit):
    """Items that look like a public work without the evidence of a copy ("similar, not a
    copy"): shown apart, never counted as found."""
    return AuditMatch.objects.filter(
        audit=audit, work__in=Work.objects.public(), kind=AuditMatch.Kind.SIMILAR
    )


def matched_items(*, audit: Audit) -> int:
    return public_matches(audit=audit).values("source").distinct().count()


@dataclass
class Estimate:
    sample: float
    rows_sampled: int
    rows_total: int
    items_found: int
    estimate: int
    low: int
    high: int


def estimate(*, audit: Audit) -> Estimate | None:
    """For a sampled audit: the number of items in the whole set that are registered works, with
    a 95 % Wilson interval on the sampled proportion, scaled to the whole set's rows."""
    if audit.sample >= 1:
        return None
    p = progress(audit=audit)
    n, total, found = p.rows_scanned, p.rows_total, matched_items(audit=audit)
    if not n:
        return Estimate(audit.sample, 0, total, 0, 0, 0, total)
    phat = found / n
    denominator = 1 + Z95**2 / n
    centre = (phat + Z95**2 / (2 * n)) / denominator
    half = Z95 * math.sqrt(phat * (1 - phat) / n + Z95**2 / (4 * n * n)) / denominator
    return Estimate(
        sample=audit.sample,
        rows_sampled=n,
        rows_total=total,
        items_found=found,
        estimate=round(phat * total),
        low=max(found, math.floor(max(0.0, centre - half) * total)),
        high=math.ceil(min(1.0, centre + half) * total),
    )


TRAINING_STATUSES = {
    "licensed": "licensed",
    "paid": "unlicensed, paid terms",
    "prohibited": "prohibited",
    "free": "free",
}


def licence_status(*, audit: Audit, work_ids, currencies: dict | None = None) -> dict[int, str]:
    """work -> licensed / paid / prohibited / free for training, for the audit's organisation;
    `currencies`, when given, gets each paid work's price currency."""

    terms = {
        work_id: (ai, currency)
        for work_id, ai, currency in CatalogueEntry.objects.filter(work_id__in=work_ids).values_list(
            "work_id", "ai_training", "ai_currency"
        )
    }
    held = held_licences(org=audit.org, work_ids=list(work_ids)) if audit.org_id else {}
    status = {}
    for work_id in work_ids:
        if (work_id, "training") in held:
            status[work_id] = "licensed"
        else:
            status[work_id], currency = terms.get(work_id, ("prohibited", "ETH"))
            if currencies is not None and status[work_id] == "paid":
                currencies[work_id] = currency
    return status


def report(*, audit: Audit) -> dict:
    matches = public_matches(audit=audit)
    by_kind = dict(matches.values_list("kind").annotate(n=Count("pk")))
    by_creator = list(
        matches.values("work__creator_address", "work__owner__profile__display_name")
        .annotate(items=Count("source", distinct=True), works=Count("work", distinct=True))
        .order_by("-items")[:50]
    )
    work_ids = set(matches.values_list("work_id", flat=True))
    currencies: dict[int, str] = {}
    statuses = licence_status(audit=audit, work_ids=work_ids, currencies=currencies)
    by_status = {key: 0 for key in TRAINING_STATUSES}
    for status in statuses.values():
        by_status[status] = by_status.get(status, 0) + 1
    return {
        "paid_by_currency": sorted(Counter(currencies.values()).items()),  # ETH first, then the stablecoin
        "progress": progress(audit=audit),
        "by_kind": by_kind,
        "by_creator": by_creator,
        "by_status": by_status,
        "statuses": statuses,
        "items": matched_items(audit=audit),
        "works": len(work_ids),
        "estimate": estimate(audit=audit),
        "problems": list(audit.parts.exclude(error="").select_related("input").order_by("pk")[:50]),
        "similar": list(
            similar_matches(audit=audit).select_related("work", "work__owner__profile").order_by("pk")[:50]
        ),
        "similar_count": similar_matches(audit=audit).count(),
    }


def match_rows(*, audit: Audit, after: int = 0, limit: int = 100):
    return list(
        public_matches(audit=audit)
        .filter(pk__gt=after)
        .select_related("work", "work__registration", "work__registration__batch", "work__owner__profile")
        .order_by("pk")[:limit]
    )


def match_json(m: AuditMatch) -> dict:
    """One match as the JSON export and the API give it."""
    return {
        "id": m.pk,
        "work_id": m.work_id,
        "kind": m.kind,
        "distance": m.distance,
        "source": {
            "file": m.source_file,
            "row": m.source_row,
            "uid": m.source_uid or None,
            "key": m.source_key or None,
            "url": m.source_url or None,
        },
    }


def audit_json(*, audit: Audit) -> dict:
    p = progress(audit=audit)
    matches = [match_json(m) for m in public_matches(audit=audit).order_by("pk").iterator(chunk_size=5000)]
    body = {
        "audit": str(audit.token),
        "name": audit.name,
        "status": audit.status,
        "sample": audit.sample,
        "rows_scanned": p.rows_scanned,
        "rows_total": p.rows_total,
        "images_hashed": p.images_hashed,
        "items_bad": p.items_bad,
        "matches": matches,
        "similar": [
            match_json(m) for m in similar_matches(audit=audit).order_by("pk").iterator(chunk_size=5000)
        ],
        "problems": [
            {"file": part.input.name, "part": part.index, "status": part.status, "message": part.error}
            for part in audit.parts.exclude(error="").select_related("input").order_by("pk")
        ],
    }
    if (e := estimate(audit=audit)) is not None:
        body["estimate"] = {
            "rows_sampled": e.rows_sampled,
            "rows_total": e.rows_total,
            "items_found": e.items_found,
            "registered_items": e.estimate,
            "ci95": [e.low, e.high],
        }
    return body


def found_for_creator(*, user, limit: int = 20, examples: int = 5) -> list[dict]:
    """Finished audits that found this creator's public works: the dataset, how many items,
    when, a few of the items, and who ran it when the auditor allows it. Three queries."""
    mine = AuditMatch.objects.filter(
        work__owner=user, work__in=Work.objects.public(), audit__status=Audit.Status.DONE
    ).exclude(kind=AuditMatch.Kind.SIMILAR)
    rows = list(
        mine.values(
            "audit_id",
            "audit__name",
            "audit__finished_at",
            "audit__reveal_auditor",
            "audit__org__name",
            "audit__user__username",
        )
        .annotate(items=Count("source", distinct=True), works=Count("work", distinct=True))
        .order_by("-audit__finished_at")[:limit]
    )
    by_audit: dict[int, list] = {row["audit_id"]: [] for row in rows}
    for match in (
        mine.filter(audit_id__in=by_audit)
        .select_related("work")
        .order_by("audit_id", "pk")[: len(by_audit) * 50]
    ):
        if len(by_audit[match.audit_id]) < examples:
            by_audit[match.audit_id].append(match)
    found = []
    for row in rows:
        auditor = row["audit__org__name"] or row["audit__user__username"] or ""
        found.append(
            {
                "dataset": row["audit__name"],
                "when": row["audit__finished_at"],
                "auditor": auditor if row["audit__reveal_auditor"] else None,
                "items": row["items"],
                "works": row["works"],
                "examples": by_audit[row["audit_id"]],
            }
        )
    return found
