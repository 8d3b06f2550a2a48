"""The disputes app's own writes: evidence, replies, and the dispute log and notices every flow
uses. What spans apps (filing, which pauses sales; decisions, which revoke, void or release; the
escrow and pause transactions) is in disputes/flows/."""

import hashlib
import logging
from datetime import date, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from core.errors import PortalError
from core.notifications import notify
from core.people import user_label
from disputes.models import Dispute, DisputeEvent, Evidence
from works.fingerprints import pdq_distance
from works.matching import prints
from works.models import Work
from works.selectors import copies, near_matches
from works.validation import human_size

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


def event_record(dispute: Dispute, *, actor, action: str, text: str = "") -> DisputeEvent:
    return DisputeEvent.objects.create(dispute=dispute, actor=actor, action=action, text=text[:5000])


def parties_tell(dispute: Dispute, text: str, *, skip=None) -> None:
    """Both parties hear of every step (in the portal, and by e-mail when they gave one)."""
    seen = set()
    for user in (dispute.claimant, dispute.respondent):
        if user.pk in seen or (skip is not None and user.pk == skip.pk):
            continue
        seen.add(user.pk)
        notify(
            user=user, kind="dispute", text=f"Dispute #{dispute.pk}: {text}", url=dispute.get_absolute_url()
        )


def reply_by():
    """When the respondent's reply window ends, for a dispute opened now."""
    return timezone.now() + timedelta(days=settings.DISPUTES_REPLY_DAYS)


def evidence_check_sizes(files, *, existing: tuple[int, int]) -> None:
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


def evidence_prepare_file(upload, *, work: Work, party) -> Evidence:
    """Read an uploaded file once: its sha256; for an image its PDQ, the distance to the disputed
    work and the uploader's own registration of it (with its anchor time), if any."""
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
        fingerprints = prints(fresh)
    evidence.pdq = fingerprints.pdq
    evidence.pdq_distance = pdq_distance(fingerprints.pdq, work.pdq)
    evidence.own_work = _own_registration(party=party, sha256=sha256, query=fingerprints.query, exclude=work)
    return evidence


def _own_registration(*, party, sha256: str, query, exclude: Work) -> Work | None:
    """The party's own public registration of this picture (the registry's matcher: copies, not
    look-alikes), the earliest anchored first."""
    own = [
        m
        for m in copies(near_matches(sha256=sha256, query=query, exclude_id=exclude.pk))
        if m["owner_id"] == party.pk
    ]
    if not own:
        return None
    own.sort(key=lambda m: (m["anchored_at"] is None, m["anchored_at"] or m["registered_at"], m["work_id"]))
    return Work.objects.get(pk=own[0]["work_id"])


def evidence_prepare_url(url: str, published: date | None = None, note: str = "") -> Evidence:
    url = (url or "").strip()
    if not url.lower().startswith(("http://", "https://")) or len(url) > 2000 or " " in url:
        raise DisputeError(ERR_URL.format(url=url[:200]))
    if published and published > timezone.now().date():
        raise DisputeError(ERR_URL_DATE)
    return Evidence(kind=Evidence.Kind.URL, url=url, url_date=published, note=(note or "")[:2000])


def evidence_save(dispute: Dispute, evidence: Evidence, *, party) -> Evidence:
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


def party_or_refuse(dispute: Dispute, user) -> None:
    if not dispute.is_party(user):
        raise DisputeError(ERR_NOT_PARTY, status=403, code="forbidden")
    if not dispute.is_open:
        raise DisputeError(ERR_CLOSED.format(status=dispute.get_status_display()), status=409, code="closed")


def evidence_add(*, dispute: Dispute, user, files=(), urls=(), note: str = "") -> list[Evidence]:
    """A party adds files, addresses or a note to an open dispute."""
    party_or_refuse(dispute, user)
    files = list(files)
    held = dispute.evidence.exclude(file="")
    existing = (held.count(), sum(held.values_list("size", flat=True)))
    evidence_check_sizes(files, existing=existing)
    prepared = [evidence_prepare_file(upload, work=dispute.work, party=user) for upload in files]
    prepared += [evidence_prepare_url(*spec) for spec in urls]
    note = (note or "").strip()[:2000]
    if not prepared and not note:
        raise DisputeError("Add a file, an address or a note.")
    with transaction.atomic():
        saved = [evidence_save(dispute, evidence, party=user) for evidence in prepared]
        summary = ", ".join(e.original_name or e.url for e in saved)
        event_record(
            dispute, actor=user, action=Action.EVIDENCE, text="; ".join(filter(None, [summary, note]))
        )
        parties_tell(dispute, f"{user_label(user, short=True)} added evidence.", skip=user)
    return saved


def dispute_reply(*, dispute: Dispute, user, text: str) -> DisputeEvent:
    party_or_refuse(dispute, user)
    text = (text or "").strip()
    if not 1 <= len(text) <= 5000:
        raise DisputeError(ERR_REPLY)
    with transaction.atomic():
        event = event_record(dispute, actor=user, action=Action.REPLY, text=text)
        parties_tell(dispute, f"{user_label(user, short=True)} replied.", skip=user)
    return event
