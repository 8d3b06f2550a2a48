"""Reads for disputes: what is in dispute (for sales, escrow and the API), what a user may see."""

from django.db.models import Q, QuerySet

from core.db import values_in
from disputes.models import Dispute, DisputeEvent, Evidence
from works.models import REVOKED, Work, is_moderator

Kind, Status = Dispute.Kind, Dispute.Status


def works_in_registration_dispute(*, work_ids) -> set[int]:
    """Works with an open dispute of their registration: no new sales, revenue to escrow."""

    work_ids = list(work_ids)
    if not work_ids:
        return set()
    return set(
        Dispute.objects.filter(
            work_id__in=values_in(work_ids, kind="int"), kind=Kind.REGISTRATION, status=Status.OPEN
        ).values_list("work_id", flat=True)
    )


def works_escrowed(*, work_ids) -> set[int]:
    """Works whose revenue goes to escrow: in registration dispute, or revoked."""

    work_ids = list(work_ids)
    if not work_ids:
        return set()
    revoked = Work.objects.filter(
        pk__in=values_in(work_ids, kind="int"), registration__status=REVOKED
    ).values_list("pk", flat=True)
    return works_in_registration_dispute(work_ids=work_ids) | set(revoked)


def in_registration_dispute(*, work_ref: str = "work_id"):
    """True where the row's work (OuterRef(work_ref)) has an open registration dispute: one
    query for a whole catalogue page (`works.hooks.in_registration_dispute`)."""
    from django.db.models import Exists, OuterRef

    return Exists(
        Dispute.objects.filter(work_id=OuterRef(work_ref), kind=Kind.REGISTRATION, status=Status.OPEN)
    )


def registration_dispute_for(*, work) -> Dispute | None:
    """The open dispute of a work's registration, if any (work page and catalogue say so)."""
    return (
        Dispute.objects.filter(work=work, kind=Kind.REGISTRATION, status=Status.OPEN)
        .order_by("created_at")
        .first()
    )


def disputes_visible_to(user) -> QuerySet[Dispute]:
    """Disputes a user is a party to; moderators see them all."""
    if user is None or not user.is_authenticated:
        return Dispute.objects.none()
    qs = Dispute.objects.select_related("work", "claimant", "respondent", "respondent_org")
    if is_moderator(user):
        return qs
    return qs.filter(Q(claimant=user) | Q(respondent=user))


def dispute_for(*, pk: int, user) -> Dispute | None:
    return disputes_visible_to(user).filter(pk=pk).first()


def dispute_timeline(dispute: Dispute) -> list[DisputeEvent]:
    return list(dispute.events.select_related("actor__profile").order_by("created_at", "pk"))


def dispute_evidence(dispute: Dispute) -> list[Evidence]:
    return list(dispute.evidence.select_related("party__profile", "own_work__registration__batch"))


def respondent_answered(*, dispute: Dispute) -> bool:
    """The respondent replied or added evidence (the reply window then no longer holds)."""
    return dispute.events.filter(
        actor_id=dispute.respondent_id, action__in=[DisputeEvent.Action.REPLY, DisputeEvent.Action.EVIDENCE]
    ).exists()


def open_disputes_count(*, user) -> int:
    return Dispute.objects.filter(claimant=user, status=Status.OPEN, source=Dispute.Source.FILED).count()


def party_history(*, user) -> dict:
    """How a party has fared before: disputes filed and answered, and how they ended."""
    from django.db.models import Count

    def tally(qs):
        rows = dict(qs.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
        return {s.value: rows.get(s.value, 0) for s in Status}

    return {
        "filed": tally(Dispute.objects.filter(claimant=user)),
        "answered": tally(Dispute.objects.filter(respondent=user)),
        "works": user.works.count(),
        "joined": user.date_joined,
    }


def viewer_part(*, dispute: Dispute, user) -> tuple[str, dict]:
    """The viewer's part in a dispute ("claimant", "respondent", "moderator" or "") and its
    outcome in their words: a green "upheld" means nothing to the respondent it went against."""
    role = (
        "claimant"
        if user.pk == dispute.claimant_id
        else "respondent"
        if user.pk == dispute.respondent_id
        else "moderator"
        if is_moderator(user)
        else ""
    )
    if dispute.is_open:
        return role, {"badge": "open", "label": "Open"}
    verdict = dispute.get_status_display()
    if role in ("claimant", "respondent"):
        if (dispute.status == Status.UPHELD) == (role == "claimant"):
            return role, {"badge": "favour", "label": f"Decided in your favour ({verdict})"}
        return role, {"badge": "against", "label": f"Decided against you ({verdict})"}
    return role, {"badge": dispute.status, "label": verdict.capitalize()}
