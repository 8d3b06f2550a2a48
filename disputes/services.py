"""Writes for disputes: filing, evidence, replies, the automatic dispute of a held registration,
moderators' decisions and what each decision changes.

What a decision changes (docs/architecture.md, "Disputes", has the table):

- improper registration, open: new sales paused (quotes refused, open quotes and unpaid
  settlements closed), revenue of new settlements to escrow, the API says "in dispute".
- upheld with revocation: the registration is revoked (delisted, out of the fingerprint index,
  offers withdrawn and revoked on chain), a platform-signed revocation joins the next anchor
  batch, and every escrowed share goes to the rightful creator's address when they have a
  registration of their own, else back to the buyer.
- rejected (or upheld without revocation): the pause ends and the escrow goes to the payees it
  was held for.
- a held registration's dispute: upheld rejects the registration, rejected releases it to the
  anchoring queue.
- improper use, upheld: the respondent's valid licences of the work are void.
- content standards, upheld with revocation: revoked as above.
"""

import contextlib
import hashlib
import logging
from datetime import date, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from PIL import Image, UnidentifiedImageError
from web3 import Web3

from disputes.models import Dispute, DisputeEvent, EscrowRelease, Evidence
from disputes.selectors import open_disputes_count, respondent_answered
from licensing.eip712 import escrow_decision_typed_data
from portal.chain.contracts import MARKET, contract, market_at
from portal.chain.eip712 import typed_data_sign
from portal.chain.keys import moderation_signer
from portal.chain.merkle import SETTLEMENT_LEAF_ENCODING
from portal.chain.sender import sender_context, transaction_send
from portal.errors import PortalError
from portal.people import user_label
from royalties.settlement import allocation_leaf, claim_args
from works.models import PUBLIC_STATUSES, REVOKED, Registration, Work, is_moderator

logger = logging.getLogger(__name__)
Kind, Status, Action = Dispute.Kind, Dispute.Status, DisputeEvent.Action

ERR_NOT_REGISTERED = "Only registered works can be disputed."
ERR_OWN_REGISTRATION = "You cannot dispute your own registration."
ERR_STATEMENT = "Say what happened: a statement of 20 to 5,000 characters."
ERR_KIND = "Choose what kind of dispute this is."
ERR_TOO_MANY_OPEN = (
    "You have {count} open disputes, the most one person may have at once; "
    "add evidence to those or wait for a decision."
)
ERR_ALREADY_OPEN = "You already have an open dispute of this kind on this work (#{pk})."
ERR_RESPONDENT = "Name the licensee or organisation this dispute is against."
ERR_NOT_PARTY = "Only the two parties can add to a dispute."
ERR_CLOSED = "This dispute was decided ({status}); nothing more can be added."
ERR_REPLY = "Write a reply of up to 5,000 characters."
ERR_FILE_TOO_LARGE = "“{name}” is {size}; evidence files may be at most {limit}."
ERR_TOO_MUCH_EVIDENCE = "A dispute holds at most {files} evidence files and {total} in all."
ERR_FILE_KIND = "“{name}” is not a JPEG, PNG or WebP image, a PDF or a plain-text file."
ERR_IMAGE_TOO_LARGE = "“{name}” has more than {limit} megapixels."
ERR_URL = "“{url}” is not a web address (http:// or https://)."
ERR_URL_DATE = "The publication date cannot be in the future."
ERR_NOT_MODERATOR = "Only moderators can decide disputes."
ERR_DECIDED = "This dispute was already decided ({status})."
ERR_REASON = "Write the reason for the decision; both parties will read it."
ERR_DECISION = "Choose uphold or reject."
ERR_REPLY_WINDOW = (
    "The respondent has until {until} to answer and has not yet: uphold after that, or say why "
    "it cannot wait."
)

SAME_PICTURE = 31  # PDQ distance at or under which two images are the same picture


class DisputeError(PortalError):
    code = "dispute_refused"


def _event(dispute: Dispute, *, actor, action: str, text: str = "") -> DisputeEvent:
    return DisputeEvent.objects.create(dispute=dispute, actor=actor, action=action, text=text[:5000])


def _tell(dispute: Dispute, text: str, *, skip=None) -> None:
    """Both parties hear of every step (in the portal, and by e-mail when they gave one)."""
    from portal.notifications import notify

    seen = set()
    for user in (dispute.claimant, dispute.respondent):
        if user.pk in seen or (skip is not None and user.pk == skip.pk):
            continue
        seen.add(user.pk)
        notify(
            user=user, kind="dispute", text=f"Dispute #{dispute.pk}: {text}", url=dispute.get_absolute_url()
        )


# ------------------------------------------------------------------ filing


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
    _check_sizes(files, existing=(0, 0))
    prepared = [_prepare_file(upload, work=work, party=user) for upload in files]
    links = [_prepare_url(*spec) for spec in urls]
    with transaction.atomic():
        dispute = Dispute.objects.create(
            work=work,
            kind=kind,
            claimant=user,
            respondent=respondent,
            respondent_org=respondent_org,
            statement=statement,
            reply_by=_reply_by(),
        )
        for evidence in prepared + links:
            _evidence_save(dispute, evidence, party=user)
        _event(dispute, actor=user, action=Action.FILED, text=statement)
        if kind == Kind.REGISTRATION:
            _sales_pause(work)
        _tell(
            dispute,
            f"{user_label(user, short=True)} filed a dispute ({dispute.get_kind_display()}) "
            f"of “{work.title}”.",
        )
    return dispute


def _reply_by():
    return timezone.now() + timedelta(days=settings.DISPUTES_REPLY_DAYS)


def _sales_pause(work: Work) -> None:
    """While a registration is disputed, nothing new can be bought: close the portal's open
    quotes of the work and expire unpaid settlements that include it (a fresh one escrows it).
    A quote already in a wallet can be paid until its expiry (minutes); that sale stands."""
    from licensing.models import Quote
    from royalties.models import Settlement

    Quote.objects.filter(offer__work=work, status=Quote.Status.OPEN).update(status=Quote.Status.EXPIRED)
    Settlement.objects.filter(status=Settlement.Status.OPEN, lines__work=work).update(
        status=Settlement.Status.EXPIRED
    )


# ------------------------------------------------------------------ evidence


def _check_sizes(files, *, existing: tuple[int, int]) -> None:
    from works.validation import human_size

    count, total = existing
    for upload in files:
        if upload.size > settings.DISPUTE_EVIDENCE_MAX_BYTES:
            raise DisputeError(
                ERR_FILE_TOO_LARGE.format(
                    name=upload.name[:100],
                    size=human_size(upload.size),
                    limit=human_size(settings.DISPUTE_EVIDENCE_MAX_BYTES),
                ),
                status=413,
                code="too_large",
            )
        count += 1
        total += upload.size
    if count > settings.DISPUTE_EVIDENCE_MAX_FILES or total > settings.DISPUTE_EVIDENCE_TOTAL_BYTES:
        raise DisputeError(
            ERR_TOO_MUCH_EVIDENCE.format(
                files=settings.DISPUTE_EVIDENCE_MAX_FILES,
                total=human_size(settings.DISPUTE_EVIDENCE_TOTAL_BYTES),
            ),
            status=413,
            code="too_much_evidence",
        )


def _prepare_file(upload, *, work: Work, party) -> Evidence:
    """Read an uploaded file once: its sha256; for an image its PDQ, the distance to the disputed
    work and the uploader's own registration of it (with its anchor time), if any."""
    from works.fingerprints import pdq_distance, pdq_fingerprints

    name = (upload.name or "evidence")[:255]
    data = b"".join(upload.chunks())
    sha256 = hashlib.sha256(data).hexdigest()
    evidence = Evidence(original_name=name, size=len(data), sha256=sha256, same_file=sha256 == work.sha256)
    evidence._data = data
    if data[:5] == b"%PDF-":
        evidence.kind, evidence.mime = Evidence.Kind.DOCUMENT, "application/pdf"
        return evidence
    image = None
    try:
        with Image.open(ContentFile(data)) as probe:
            if probe.format not in ("JPEG", "PNG", "WEBP"):
                raise UnidentifiedImageError
            if probe.width * probe.height > settings.WORKS_MAX_MEGAPIXELS * 1_000_000:
                raise DisputeError(
                    ERR_IMAGE_TOO_LARGE.format(name=name[:100], limit=settings.WORKS_MAX_MEGAPIXELS),
                    code="too_large",
                )
            probe.load()
            image = True
            evidence.mime = Image.MIME[probe.format]
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError):
        image = None
    if image is None:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise DisputeError(ERR_FILE_KIND.format(name=name[:100]), status=415, code="unsupported_file")
        evidence.kind, evidence.mime = Evidence.Kind.DOCUMENT, "text/plain"
        return evidence
    evidence.kind = Evidence.Kind.FILE
    with Image.open(ContentFile(data)) as fresh:  # the registration's decode path (JPEG draft)
        pdq, _, _ = pdq_fingerprints(fresh)
    evidence.pdq = pdq
    evidence.pdq_distance = pdq_distance(pdq, work.pdq)
    evidence.own_work = _own_registration(party=party, sha256=sha256, pdq=pdq, exclude=work)
    return evidence


def _own_registration(*, party, sha256: str, pdq: str, exclude: Work) -> Work | None:
    """The party's own public registration of this picture (the registry's near-duplicate
    lookup), the earliest anchored first."""
    from works.selectors import near_matches

    own = [
        m for m in near_matches(sha256=sha256, pdq=pdq, exclude_id=exclude.pk) if m["owner_id"] == party.pk
    ]
    if not own:
        return None
    own.sort(key=lambda m: (m["anchored_at"] is None, m["anchored_at"] or m["registered_at"], m["work_id"]))
    return Work.objects.get(pk=own[0]["work_id"])


def _prepare_url(url: str, published: date | None = None, note: str = "") -> Evidence:
    url = (url or "").strip()
    if not url.lower().startswith(("http://", "https://")) or len(url) > 2000 or " " in url:
        raise DisputeError(ERR_URL.format(url=url[:200]))
    if published and published > timezone.now().date():
        raise DisputeError(ERR_URL_DATE)
    return Evidence(kind=Evidence.Kind.URL, url=url, url_date=published, note=(note or "")[:2000])


def _evidence_save(dispute: Dispute, evidence: Evidence, *, party) -> Evidence:
    evidence.dispute = dispute
    evidence.party = party
    data = getattr(evidence, "_data", None)
    if data is not None:
        evidence.file.save("evidence", ContentFile(data), save=False)
    evidence.save()
    if (
        evidence.own_work_id
        and party.pk == dispute.claimant_id
        and dispute.kind == Kind.REGISTRATION
        and dispute.rightful_work_id is None
    ):
        Dispute.objects.filter(pk=dispute.pk).update(rightful_work=evidence.own_work)
        dispute.rightful_work = evidence.own_work
    return evidence


def _party_or_refuse(dispute: Dispute, user) -> None:
    if not dispute.is_party(user):
        raise DisputeError(ERR_NOT_PARTY, status=403, code="forbidden")
    if not dispute.is_open:
        raise DisputeError(ERR_CLOSED.format(status=dispute.get_status_display()), status=409, code="closed")


def evidence_add(*, dispute: Dispute, user, files=(), urls=(), note: str = "") -> list[Evidence]:
    """A party adds files, addresses or a note to an open dispute."""
    _party_or_refuse(dispute, user)
    files = list(files)
    held = dispute.evidence.exclude(file="")
    existing = (held.count(), sum(held.values_list("size", flat=True)))
    _check_sizes(files, existing=existing)
    prepared = [_prepare_file(upload, work=dispute.work, party=user) for upload in files]
    prepared += [_prepare_url(*spec) for spec in urls]
    note = (note or "").strip()[:2000]
    if not prepared and not note:
        raise DisputeError("Add a file, an address or a note.")
    with transaction.atomic():
        saved = [_evidence_save(dispute, evidence, party=user) for evidence in prepared]
        summary = ", ".join(e.original_name or e.url for e in saved)
        _event(dispute, actor=user, action=Action.EVIDENCE, text="; ".join(filter(None, [summary, note])))
        _tell(dispute, f"{user_label(user, short=True)} added evidence.", skip=user)
    return saved


def dispute_reply(*, dispute: Dispute, user, text: str) -> DisputeEvent:
    _party_or_refuse(dispute, user)
    text = (text or "").strip()
    if not 1 <= len(text) <= 5000:
        raise DisputeError(ERR_REPLY)
    with transaction.atomic():
        event = _event(dispute, actor=user, action=Action.REPLY, text=text)
        _tell(dispute, f"{user_label(user, short=True)} replied.", skip=user)
    return event


# ------------------------------------------------------------------ held registrations


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
            reply_by=_reply_by(),
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
        _event(dispute, actor=None, action=Action.HELD, text=registration.hold_reason)
        _tell(
            dispute,
            f"“{work.title}” matches “{earlier.title}”; a moderator will review the registration.",
        )
    return dispute


# ------------------------------------------------------------------ decisions


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
        _event(dispute, actor=moderator, action=Action.UPHELD if upheld else Action.REJECTED, text=reason)
        effect = _apply(dispute, moderator=moderator, upheld=upheld, revokes=revokes, reason=reason)
        _tell(
            dispute,
            f"a moderator {'upheld' if upheld else 'rejected'} the dispute of “{dispute.work.title}”. "
            f"{effect} Reason: {reason[:200]}",
        )
    return dispute


def _apply(dispute: Dispute, *, moderator, upheld: bool, revokes: bool, reason: str) -> str:
    from works import services as works_services

    work = dispute.work
    if dispute.source == Dispute.Source.HOLD:
        registration = work.registration
        service = works_services.registration_reject if upheld else works_services.registration_release
        if registration.status == Registration.Status.HELD:
            service(registration=registration)
        return "The registration was rejected." if upheld else "The registration goes on to be anchored."
    if revokes:
        registration_revoke(dispute=dispute, moderator=moderator, reason=reason)
        return "The registration was revoked."
    if upheld and dispute.kind == Kind.USE:
        voided = _licences_void(dispute, reason=reason)
        return f"{voided} licence(s) of the respondent were voided."
    if dispute.kind == Kind.REGISTRATION:
        return "Sales resume; escrowed shares go to their payees."
    return ""


def _licences_void(dispute: Dispute, *, reason: str) -> int:
    from licensing.models import Licence, TrainingLicence

    now = timezone.now()
    text = f"voided by dispute #{dispute.pk}: {reason}"[:300]
    count = Licence.objects.filter(
        work=dispute.work, licensee=dispute.respondent, status=Licence.Status.VALID
    ).update(status=Licence.Status.VOID, void_reason=text, voided_at=now)
    if dispute.respondent_org_id:
        count += TrainingLicence.objects.filter(
            work=dispute.work, org_id=dispute.respondent_org_id, status=TrainingLicence.Status.VALID
        ).update(status=TrainingLicence.Status.VOID)
    return count


def registration_revoke(*, dispute: Dispute, moderator, reason: str, w3=None):
    """Revoke a work's registration: delist it, withdraw its offers (revoked on chain by the
    licensing beat), drop it from the fingerprint index, and sign a revocation that joins the
    next anchor batch. Escrowed revenue then goes to the rightful creator (escrow_releases_send)."""
    from licensing.models import Offer
    from licensing.services import catalogue_refresh, offer_withdraw
    from portal.chain.client import get_web3
    from portal.chain.contracts import REGISTRY, contract_address
    from portal.chain.eip712 import typed_data_digest, typed_data_sign
    from portal.chain.keys import platform_signer
    from works import eip712
    from works.models import Revocation
    from works.services import fingerprint_unpublish

    work = dispute.work
    registration = work.registration
    w3 = w3 or get_web3()
    signer = platform_signer()
    now = int(timezone.now().timestamp())
    typed = eip712.revocation_typed_data(
        registration_digest=registration.digest,
        sha256=work.sha256,
        revoked_at=now,
        reason=reason[:1000],
        chain_id=w3.eth.chain_id,
        verifying_contract=contract_address(w3=w3, name=REGISTRY),
    )
    was_public = registration.status in PUBLIC_STATUSES
    Registration.objects.filter(pk=registration.pk).update(status=REVOKED)
    rightful = dispute.rightful_work
    if rightful is not None and (rightful.owner_id != dispute.claimant_id or not rightful.is_public):
        rightful = None
    revocation = Revocation.objects.create(
        work=work,
        reason=reason[:1000],
        decided_by=moderator,
        rightful_work=rightful,
        reference=f"dispute:{dispute.pk}",
        timestamp=now,
        typed_data=typed,
        digest=typed_data_digest(typed),
        signature=typed_data_sign(typed, signer),
        signer=signer.address,
    )
    if was_public:
        fingerprint_unpublish(work=work)
    for offer in Offer.objects.active().filter(work=work):
        offer_withdraw(offer=offer, refresh=False)
    catalogue_refresh(work=work)
    _sales_pause(work)
    _event(
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


# ------------------------------------------------------------------ escrow


def escrow_destination(line) -> tuple[str, Dispute | None] | None:
    """Where an escrowed settlement line goes now: None while its work's registration is in
    dispute; the rightful creator (or the buyer) once revoked; its payee otherwise."""
    work = line.work
    disputes = Dispute.objects.filter(work_id=line.work_id, kind__in=[Kind.REGISTRATION, Kind.CONTENT])
    if disputes.filter(kind=Kind.REGISTRATION, status=Status.OPEN).exists():
        return None
    decided = disputes.exclude(status=Status.OPEN).order_by("-decided_at").first()
    if work.registration.status == REVOKED:
        revocation = getattr(work, "revocation", None)
        rightful = revocation.rightful_work if revocation else None
        if rightful is not None and rightful.is_public:
            return rightful.creator_address, decided
        return line.settlement.buyer_address, decided
    return line.beneficiary, decided


class ReleaseAlreadySent(Exception):
    pass


def escrow_releases_send(*, ctx=None) -> int:
    """Release every escrowed line of a paid settlement whose work's dispute is decided (the
    beat runs this; a settlement paid after the decision is released on the next beat). One
    `releaseEscrow` per line, linked before broadcast, so a line is never released twice."""
    from royalties.models import Settlement, SettlementLine

    due = (
        SettlementLine.objects.filter(
            escrowed=True,
            escrow_index__isnull=False,
            settlement__status=Settlement.Status.PAID,
            release__isnull=True,
        )
        .exclude(  # held while the work's registration is in dispute: not looked at every beat
            Exists(
                Dispute.objects.filter(
                    work_id=OuterRef("work_id"), kind=Kind.REGISTRATION, status=Status.OPEN
                )
            )
        )
        .select_related("settlement", "work__registration")
        .order_by("pk")
    )
    sent = 0
    ctx_ = None
    for line in due[:200]:
        destination = escrow_destination(line)
        if destination is None or destination[1] is None:
            continue
        to, dispute = destination
        ctx_ = ctx_ or ctx or sender_context()
        market = market_at(w3=ctx_.w3, address=line.settlement.market_address)
        allocation = line.settlement.allocations.get(index=line.escrow_index)
        data, amount = _release_call(market, allocation, to=to, w3=ctx_.w3)

        def link(tx, line=line, to=to, dispute=dispute, amount=amount):
            _, created = EscrowRelease.objects.get_or_create(
                line=line, defaults={"dispute": dispute, "to": to, "amount": amount, "transaction": tx}
            )
            if not created:
                raise ReleaseAlreadySent(line.pk)
            _event(
                dispute,
                actor=None,
                action=Action.ESCROW,
                text=f"{amount} wei held for “{line.work.title}” released to {to}.",
            )

        with contextlib.suppress(ReleaseAlreadySent):
            transaction_send(
                purpose=f"escrow:{line.pk}", to=market.address, data=data, ctx=ctx_, on_stored=link
            )
            sent += 1
    return sent


def _release_call(market, allocation, *, to: str, w3) -> tuple[str, int]:
    """LicenseMarket.releaseEscrow's call data for one escrowed leaf. Version 2: the leaf names
    whom it was held for and the buyer; any other recipient (the rightful creator) comes with
    the moderation key's signature of the decision. Version 1 took the recipient as given."""
    settlement_id, index, amount, proof = claim_args(allocation)
    value, _ = allocation_leaf(allocation)
    if allocation.settlement.tree["leafEncoding"] != SETTLEMENT_LEAF_ENCODING:
        return market.encode_abi("releaseEscrow", args=[settlement_id, index, amount, proof, to]), amount
    held_for, refund_to = Web3.to_checksum_address(value[2]), Web3.to_checksum_address(value[4])
    decision = b""
    if to not in (held_for, refund_to):
        typed = escrow_decision_typed_data(
            chain_id=w3.eth.chain_id,
            market=market.address,
            settlement_id=allocation.settlement.settlement_id,
            index=index,
            to=to,
        )
        decision = bytes.fromhex(typed_data_sign(typed, moderation_signer())[2:])
    leaf = (settlement_id, index, amount, held_for, refund_to)
    return market.encode_abi("releaseEscrow", args=[leaf, proof, to, decision]), amount


def sales_pauses_send(*, ctx=None) -> int:
    """Mirror registration disputes on chain (LicenseMarket.setWorkPaused): a work under an open
    registration dispute cannot be bought even with a quote signed earlier, and every settlement
    signed before the dispute goes stale; sales resume on chain when the last such dispute of
    the work is decided and the work was not revoked. One transaction each, linked before
    broadcast."""
    ctx = ctx or sender_context()
    market = contract(w3=ctx.w3, name=MARKET)
    sent = 0
    for dispute in Dispute.objects.filter(
        kind=Kind.REGISTRATION, status=Status.OPEN, chain_pause__isnull=True
    ).select_related("work")[:100]:
        sent += _pause_send(ctx, market, dispute, paused=True)
    resumable = (
        Dispute.objects.filter(kind=Kind.REGISTRATION, chain_pause__isnull=False, chain_resume__isnull=True)
        .exclude(status=Status.OPEN)
        .exclude(work__registration__status=REVOKED)
        .exclude(
            Exists(
                Dispute.objects.filter(
                    work_id=OuterRef("work_id"), kind=Kind.REGISTRATION, status=Status.OPEN
                )
            )
        )
    )
    for dispute in resumable.select_related("work")[:100]:
        sent += _pause_send(ctx, market, dispute, paused=False)
    return sent


class PauseAlreadySent(Exception):
    pass


def _pause_send(ctx, market, dispute: Dispute, *, paused: bool) -> int:
    field = "chain_pause" if paused else "chain_resume"

    def link(tx):
        if Dispute.objects.filter(pk=dispute.pk, **{f"{field}__isnull": True}).update(**{field: tx}) != 1:
            raise PauseAlreadySent(dispute.pk)

    try:
        transaction_send(
            purpose=f"{'pause' if paused else 'resume'}-work:{dispute.work_id}:{dispute.pk}",
            to=market.address,
            data=market.encode_abi("setWorkPaused", args=[dispute.work_id, paused]),
            ctx=ctx,
            on_stored=link,
        )
    except PauseAlreadySent:
        return 0
    return 1


def revocations_anchored_note() -> int:
    """Tell both parties when the revocation their dispute decided is anchored (once each)."""
    from works.models import Revocation

    due = (
        Dispute.objects.filter(revoked=True, work__revocation__status=Revocation.Status.CONFIRMED)
        .exclude(events__action=Action.ANCHORED)
        .select_related("work__revocation__batch", "claimant", "respondent")
    )
    told = 0
    for dispute in due:
        revocation = dispute.work.revocation
        with transaction.atomic():
            _event(
                dispute,
                actor=None,
                action=Action.ANCHORED,
                text=f"Revocation anchored in root {revocation.batch.root}.",
            )
            _tell(dispute, f"the revocation of “{dispute.work.title}” is anchored on chain.")
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
