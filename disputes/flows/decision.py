"""A moderator's decision and what it changes in each app (disputes/flows/filing.py says what
this folder is)."""

from django.db import transaction
from django.utils import timezone

from core.chain.client import get_web3
from core.chain.eip712 import typed_data_digest, typed_data_sign
from core.chain.keys import platform_signer
from core.chain.registry import registry_address
from disputes import services
from disputes.flows.filing import sales_pause
from disputes.models import Dispute, DisputeEvent
from disputes.selectors import respondent_answered
from disputes.services import (
    ERR_DECIDED,
    ERR_DECISION,
    ERR_NOT_MODERATOR,
    ERR_REASON,
    ERR_REPLY_WINDOW,
    DisputeError,
)
from licensing.services import licences_void, offers_withdraw_all
from training.services import training_licences_void
from works import eip712
from works import services as works_services
from works.models import Registration, Revocation, is_moderator

Kind, Status, Action = Dispute.Kind, Dispute.Status, DisputeEvent.Action


def dispute_decide(
    *, dispute: Dispute, moderator, decision: str, reason: str, revoke: bool = False, urgent_reason: str = ""
) -> Dispute:
    """A moderator's decision, with a reason both parties read. Only staff with the moderation
    permission decide; a dispute is decided once. Upholding (a decision against the respondent)
    waits for the reply window unless the respondent answered or the moderator says why it
    cannot wait; a decision in the respondent's favour may come at once."""
    if not is_moderator(moderator):
        raise DisputeError(ERR_NOT_MODERATOR, status=403, code="forbidden")
    if decision not in ("uphold", "reject"):
        raise DisputeError(ERR_DECISION)
    reason = (reason or "").strip()
    if not reason:
        raise DisputeError(ERR_REASON)
    upheld = decision == "uphold"
    urgent_reason = (urgent_reason or "").strip()[:1000]
    early = upheld and dispute.reply_window_open() and not respondent_answered(dispute=dispute)
    if early and not urgent_reason:
        raise DisputeError(
            ERR_REPLY_WINDOW.format(until=dispute.reply_by.strftime("%-d %b %Y, %H:%M UTC")),
            status=409,
            code="reply_window",
        )
    if early:
        reason = f"{reason}\n\nDecided before the respondent's reply window ended: {urgent_reason}"
    revokes = (
        upheld
        and revoke
        and dispute.source == Dispute.Source.FILED
        and dispute.kind in (Kind.REGISTRATION, Kind.CONTENT)
    )
    # Reads and the chain first: the revocation is signed for this chain and registry before any
    # row is locked (a chain that cannot be asked refuses the decision, changing nothing).
    signed = revocation_sign(work=dispute.work, reason=reason) if revokes else None
    with transaction.atomic():
        updated = Dispute.objects.filter(pk=dispute.pk, status=Status.OPEN).update(
            status=Status.UPHELD if upheld else Status.REJECTED,
            decided_at=timezone.now(),
            decided_by=moderator,
            decision_reason=reason[:5000],
            revoked=revokes,
        )
        dispute.refresh_from_db()
        if updated != 1:
            raise DisputeError(
                ERR_DECIDED.format(status=dispute.get_status_display()), status=409, code="decided"
            )
        services.event_record(
            dispute, actor=moderator, action=Action.UPHELD if upheld else Action.REJECTED, text=reason
        )
        effect = _apply(dispute, moderator=moderator, upheld=upheld, signed=signed, reason=reason)
        services.parties_tell(
            dispute,
            f"a moderator {'upheld' if upheld else 'rejected'} the dispute of “{dispute.work.title}”. "
            f"{effect} Reason: {reason[:200]}",
        )
    return dispute


def _apply(dispute: Dispute, *, moderator, upheld: bool, signed: dict | None, reason: str) -> str:
    """What the decision changes, each through the app that owns it (inside the decision's
    transaction)."""
    work = dispute.work
    if dispute.source == Dispute.Source.HOLD:
        registration = work.registration
        service = works_services.registration_reject if upheld else works_services.registration_release
        if registration.status == Registration.Status.HELD:
            service(registration=registration)
        return "The registration was rejected." if upheld else "The registration goes on to be anchored."
    if signed is not None:
        _revoke(dispute, moderator=moderator, reason=reason, signed=signed)
        return "The registration was revoked."
    if upheld and dispute.kind == Kind.USE:
        voided = licences_void(
            work=work, licensee=dispute.respondent, reason=f"voided by dispute #{dispute.pk}: {reason}"
        )
        if dispute.respondent_org_id:
            voided += training_licences_void(work=work, org_id=dispute.respondent_org_id)
        return f"{voided} licence(s) of the respondent were voided."
    if dispute.kind == Kind.REGISTRATION:
        return "Sales resume; escrowed shares go to their payees."
    return ""


def revocation_sign(*, work, reason: str, w3=None) -> dict:
    """The platform-signed revocation of a work's registration (EIP-712, for this chain's
    registry), ready to store: timestamp, typed data, digest, signature, signer."""
    w3 = w3 or get_web3()
    signer = platform_signer()
    now = int(timezone.now().timestamp())
    typed = eip712.revocation_typed_data(
        registration_digest=work.registration.digest,
        sha256=work.sha256,
        revoked_at=now,
        reason=reason[:1000],
        chain_id=w3.eth.chain_id,
        verifying_contract=registry_address(w3=w3),
    )
    return {
        "timestamp": now,
        "typed_data": typed,
        "digest": typed_data_digest(typed),
        "signature": typed_data_sign(typed, signer),
        "signer": signer.address,
    }


def _revoke(dispute: Dispute, *, moderator, reason: str, signed: dict) -> Revocation:
    """Revoke the work's registration (works: out of the index, a revocation for the next
    anchor batch), withdraw its offers (licensing: revoked on chain by its beat), pause its
    sales. Escrowed revenue then goes to the rightful creator (flows/escrow.py)."""
    work = dispute.work
    rightful = dispute.rightful_work
    if rightful is not None and (rightful.owner_id != dispute.claimant_id or not rightful.is_public):
        rightful = None
    revocation = works_services.registration_revoke(
        work=work,
        moderator=moderator,
        reason=reason,
        rightful_work=rightful,
        reference=f"dispute:{dispute.pk}",
        signed=signed,
    )
    offers_withdraw_all(work=work)
    sales_pause(work)
    services.event_record(
        dispute,
        actor=moderator,
        action=Action.REVOKED,
        text=(
            "Delisted and offers withdrawn; the revocation is anchored in the next batch. "
            + (
                f"Escrowed revenue goes to the rightful creator's “{rightful.title}”."
                if rightful
                else "Escrowed revenue goes back to the buyers."
            )
        ),
    )
    return revocation


def revocations_anchored_note() -> int:
    """Tell both parties when the revocation their dispute decided is anchored (once each)."""
    due = (
        Dispute.objects.filter(revoked=True, work__revocation__status=Revocation.Status.CONFIRMED)
        .exclude(events__action=Action.ANCHORED)
        .select_related("work__revocation__batch", "claimant", "respondent")
    )
    told = 0
    for dispute in due:
        revocation = dispute.work.revocation
        with transaction.atomic():
            services.event_record(
                dispute,
                actor=None,
                action=Action.ANCHORED,
                text=f"Revocation anchored in root {revocation.batch.root}.",
            )
            services.parties_tell(dispute, f"the revocation of “{dispute.work.title}” is anchored on chain.")
        told += 1
    return told


def hold_decide(*, registration: Registration, moderator, decision: str, reason: str) -> bool:
    """Decide a held registration through the dispute its hold opened (works' admin list of held
    registrations; `works.hooks.held_registration_decide`). False when no open dispute holds it
    (a registration held before disputes existed goes through works' own service)."""
    dispute = Dispute.objects.filter(
        work_id=registration.work_id, source=Dispute.Source.HOLD, status=Status.OPEN
    ).first()
    if dispute is None:
        return False
    dispute_decide(dispute=dispute, moderator=moderator, decision=decision, reason=reason)
    return True
