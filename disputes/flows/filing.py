"""Filing a dispute (by a person, or by the near-duplicate hold of a registration).

disputes/flows/ holds the actions of disputes that span apps (allauth's flows/ are the model):
each reads and checks first (the chain included), then opens one transaction that calls each
owning app's service. filing.py: a dispute filed, or opened by a held registration; sales of the
work paused. decision.py: a moderator's decision and what it changes (revocation, void licences,
a held registration rejected or released). escrow.py: the transactions that mirror disputes on
chain (per-work sales pause, escrow releases). It is a folder of the disputes app, not an app of
its own (no __init__.py: a namespace package), so its imports of disputes' models and services
are imports within one app."""

from django.conf import settings
from django.db import transaction

from core.people import user_label
from disputes import services
from disputes.models import Dispute, DisputeEvent, Evidence
from disputes.selectors import open_disputes_count
from disputes.services import (
    ERR_ALREADY_OPEN,
    ERR_KIND,
    ERR_NOT_REGISTERED,
    ERR_OWN_REGISTRATION,
    ERR_RESPONDENT,
    ERR_STATEMENT,
    ERR_TOO_MANY_OPEN,
    DisputeError,
)
from licensing.services import quotes_close_for_work
from royalties.settlement import settlements_expire_for_work
from works.models import PUBLIC_STATUSES, Registration, Work

Kind, Status, Action = Dispute.Kind, Dispute.Status, DisputeEvent.Action


def dispute_file(
    *,
    user,
    work: Work,
    kind: str,
    statement: str,
    files=(),
    urls=(),
    respondent=None,
    respondent_org=None,
) -> Dispute:
    """Open a dispute on a registered work, with its first evidence.

    The claimant is `user`; the respondent is the work's owner, or, when the owner files (improper
    use or payment by a licensee), the licensee or organisation they name.
    """
    if kind not in Kind.values:
        raise DisputeError(ERR_KIND)
    registration = getattr(work, "registration", None)
    if registration is None or registration.status not in PUBLIC_STATUSES:
        raise DisputeError(ERR_NOT_REGISTERED, status=404, code="not_found")
    statement = (statement or "").strip()
    if not 20 <= len(statement) <= 5000:
        raise DisputeError(ERR_STATEMENT)
    if work.owner_id == user.pk:
        if kind in (Kind.REGISTRATION, Kind.CONTENT):
            raise DisputeError(ERR_OWN_REGISTRATION)
        if respondent is None or respondent.pk == user.pk:
            raise DisputeError(ERR_RESPONDENT)
    else:
        respondent, respondent_org = work.owner, None
    count = open_disputes_count(user=user)
    if count >= settings.DISPUTES_OPEN_MAX:
        raise DisputeError(ERR_TOO_MANY_OPEN.format(count=count), status=429, code="too_many_disputes")
    duplicate = Dispute.objects.filter(work=work, claimant=user, kind=kind, status=Status.OPEN).first()
    if duplicate is not None:
        raise DisputeError(ERR_ALREADY_OPEN.format(pk=duplicate.pk), status=409, code="already_open")
    files = list(files)
    services.evidence_check_sizes(files, existing=(0, 0))
    prepared = [services.evidence_prepare_file(upload, work=work, party=user) for upload in files]
    links = [services.evidence_prepare_url(*spec) for spec in urls]
    with transaction.atomic():
        dispute = Dispute.objects.create(
            work=work,
            kind=kind,
            claimant=user,
            respondent=respondent,
            respondent_org=respondent_org,
            statement=statement,
            reply_by=services.reply_by(),
        )
        for evidence in prepared + links:
            services.evidence_save(dispute, evidence, party=user)
        services.event_record(dispute, actor=user, action=Action.FILED, text=statement)
        if kind == Kind.REGISTRATION:
            sales_pause(work)
        services.parties_tell(
            dispute,
            f"{user_label(user, short=True)} filed a dispute ({dispute.get_kind_display()}) "
            f"of “{work.title}”.",
        )
    return dispute


def sales_pause(work: Work) -> None:
    """While a registration is disputed, nothing new can be bought: close the portal's open
    quotes of the work and expire unpaid settlements that include it (a fresh one escrows it).
    A quote already in a wallet can be paid until its expiry (minutes); that sale stands."""
    quotes_close_for_work(work=work)
    settlements_expire_for_work(work=work)


def dispute_from_hold(*, registration: Registration) -> Dispute | None:
    """A registration held by the near-duplicate check becomes a dispute of improper
    registration between the earlier work's creator and the new one, with the match as
    evidence: moderators have one queue."""
    evidence = registration.hold_evidence or []
    if not evidence:
        return None
    first = evidence[0]
    earlier = Work.objects.filter(pk=first["work_id"]).select_related("owner").first()
    if earlier is None:
        return None
    work = registration.work
    with transaction.atomic():
        dispute = Dispute.objects.create(
            work=work,
            kind=Kind.REGISTRATION,
            source=Dispute.Source.HOLD,
            claimant=earlier.owner,
            respondent=work.owner,
            rightful_work=earlier,
            statement=registration.hold_reason,
            reply_by=services.reply_by(),
        )
        for match in evidence[:10]:
            Evidence.objects.create(
                dispute=dispute,
                kind=Evidence.Kind.MATCH,
                own_work_id=match["work_id"],
                pdq_distance=match.get("distance"),
                same_file=bool(match.get("exact")),
                note=f"Matched work #{match['work_id']} by {match.get('creator_address', '')}",
            )
        services.event_record(dispute, actor=None, action=Action.HELD, text=registration.hold_reason)
        services.parties_tell(
            dispute,
            f"“{work.title}” matches “{earlier.title}”; a moderator will review the registration.",
        )
    return dispute
