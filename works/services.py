"""Writes for works: upload, signing the registration, moderation of held registrations.

Anchoring has its own flow module (works/anchoring.py); reads live in works/selectors.py.
"""

import hashlib
import logging

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from eth_account.messages import encode_typed_data
from PIL import Image
from web3 import Web3

from core.chain import registry
from core.chain.client import get_web3
from core.chain.eip712 import typed_data_digest, typed_data_signer
from core.chain.signatures import SignatureCheck, signature_check
from core.errors import PortalError
from works import eip712, hooks
from works.fingerprints import sha256_of
from works.imaging import PREVIEW_SIZE, THUMBNAIL_SIZE, renders
from works.matching import prints, windows_text, work_query
from works.models import (
    PUBLIC_STATUSES,
    REVOKED,
    FingerprintChange,
    Registration,
    Revocation,
    Work,
    WorkDigest,
)
from works.selectors import copies, near_matches
from works.validation import image_check

logger = logging.getLogger(__name__)

ERR_NOT_AWAITING = "This registration is already signed ({status})."
ERR_WRONG_SIGNER = "The signature was made by {signer}, not by your signed-in wallet {expected}."
ERR_BAD_SIGNATURE = "The signature is not a valid EIP-712 signature of this registration."
ERR_NOT_HELD = "Only registrations held for review can be released or rejected."
ERR_PARENTS_PENDING = (
    "The creator of “{title}” has not approved this derivative yet; you can sign once every parent has."
)
ERR_PARENT_REFUSED = (
    "The creator of “{title}” refused this derivative; remove it as a parent to register the work."
)
HOLD_REASON = (
    "This image matches a work already registered by another creator, so a moderator will review "
    "it before it is anchored."
)
Status = Registration.Status


class RegistrationError(PortalError):
    code = "registration_refused"


ERR_ALREADY_UPLOADED = "You already uploaded this exact file as “{title}” ({status})."


class AlreadyUploaded(RegistrationError):
    """The same bytes as one of the uploader's works: open that one instead of a copy of it."""

    status = 409
    code = "already_uploaded"

    def __init__(self, work: Work):
        super().__init__(
            ERR_ALREADY_UPLOADED.format(title=work.title, status=work.registration.get_status_display())
        )
        self.work = work


def fingerprint_publish(*, work: Work) -> None:
    """The work became public: every process's fingerprint index adds it on its next search."""
    FingerprintChange.objects.create(
        work=work, pdq=work.pdq, pdq_crop=work.pdq_crop, pdq_windows=work.pdq_windows, added=True
    )


def fingerprint_unpublish(*, work: Work) -> None:
    """The work stopped being public (rejected, revoked): indexes drop it."""
    FingerprintChange.objects.create(work=work, pdq=work.pdq, pdq_crop=work.pdq_crop, added=False)


def work_upload(
    *,
    user,
    creator_address: str,
    file,
    title: str,
    description: str = "",
    tags: list[str] | None = None,
    year: int | None = None,
    admit=None,
) -> Work:
    """Validate, fingerprint and store an upload; create its unsigned registration.

    1. Validate the file (raises InvalidImage; nothing is written before this passes).
    2. Fingerprint: sha256 of the bytes, PDQ after the shared normalisation.
    3. Refuse the same bytes as one of the uploader's own works (they open that one instead).
       Look for identical or near public works: the creator's own becomes `version_of`;
       another creator's is kept as evidence and shown before signing (the hold itself is
       decided when the registration is signed, against the works public at that moment).
    4. Write the private original, the public preview and thumbnail, and the rows, in one
       transaction; files written for a transaction that fails are removed. `admit`, when
       given, runs first in that transaction and returns the portfolio the work joins (or
       raises: the portfolio is full or closed).
    """
    checked = image_check(file)
    sha256 = sha256_of(file)
    existing = (
        Work.objects.for_owner(user)
        .filter(sha256=sha256)
        .exclude(registration__status__in=[Status.REJECTED, Status.REVOKED])
        .select_related("registration")
        .order_by("pk")
        .first()
    )
    if existing is not None:
        raise AlreadyUploaded(existing)
    with Image.open(file, formats=[checked.format]) as image:
        fingerprints = prints(image)
    file.seek(0)
    with Image.open(file, formats=[checked.format]) as image:
        (preview, preview_ext), (thumbnail, thumb_ext) = renders(image, [PREVIEW_SIZE, THUMBNAIL_SIZE])
    file.seek(0)

    matches = copies(near_matches(sha256=sha256, query=fingerprints.query))
    others = [m for m in matches if m["owner_id"] != user.pk]
    own = [m for m in matches if m["owner_id"] == user.pk]

    work = Work(
        owner=user,
        creator_address=creator_address,
        title=title.strip(),
        description=description.strip(),
        tags=tags or [],
        year=year,
        original_name=(file.name or "")[:255],
        mime=checked.mime,
        width=checked.width,
        height=checked.height,
        size=checked.size,
        sha256=sha256,
        pdq=fingerprints.pdq,
        pdq_quality=fingerprints.quality,
        pdq_crop=fingerprints.pdq_crop,
        pdq_windows=windows_text(fingerprints.windows),
        version_of_id=own[0]["work_id"] if own else None,
    )
    written = []
    try:
        with transaction.atomic():
            portfolio = admit() if admit is not None else None
            work.original.save(f"upload.{checked.format.lower()}", file, save=False)
            written.append(work.original)
            work.preview.save("preview" + preview_ext, ContentFile(preview), save=False)
            written.append(work.preview)
            work.thumbnail.save("thumb" + thumb_ext, ContentFile(thumbnail), save=False)
            written.append(work.thumbnail)
            work.save()
            WorkDigest.objects.bulk_create(
                [
                    WorkDigest(work=work, sha256=sha256, kind=WorkDigest.Kind.ORIGINAL),
                    WorkDigest(
                        work=work, sha256=hashlib.sha256(preview).hexdigest(), kind=WorkDigest.Kind.PREVIEW
                    ),
                    WorkDigest(
                        work=work,
                        sha256=hashlib.sha256(thumbnail).hexdigest(),
                        kind=WorkDigest.Kind.THUMBNAIL,
                    ),
                ],
                ignore_conflicts=True,
            )
            Registration.objects.create(
                work=work,
                portfolio=portfolio,
                timestamp=int(timezone.now().timestamp()),
                hold_evidence=others,
                hold_reason=HOLD_REASON if others else "",
            )
    except Exception:
        for field in written:
            field.storage.delete(field.name)
        raise
    return work


def registration_typed_data(*, registration: Registration, w3: Web3 | None = None) -> dict:
    """The EIP-712 payload to sign: stored once signed, rebuilt the same way before."""
    if registration.typed_data:
        return registration.typed_data

    w3 = w3 or get_web3()
    work = registration.work
    return eip712.registration_typed_data(
        sha256=work.sha256,
        pdq=work.pdq,
        title=work.title,
        terms_hash=registration.terms_hash,
        creator=work.creator_address,
        timestamp=registration.timestamp,
        chain_id=w3.eth.chain_id,
        verifying_contract=registry.registry_address(w3=w3),
        parents=[p.sha256 for p in work_parents(work=work)],
    )


def work_parents(*, work: Work) -> list[Work]:
    """The works `work` declares it derives from, in a stable order."""
    links = getattr(work, "parent_links", None)
    if links is None:
        return []
    return [link.parent for link in links.select_related("parent").order_by("parent_id")]


def _creator_signature_check(typed: dict, signature, *, creator: str, w3: Web3 | None) -> SignatureCheck:
    """The creator's wallet made the signature: their key, or their smart-contract account
    (ERC-1271, or ERC-6492 before it is deployed). An EOA signature by another key says whose."""
    check = signature_check(
        signer=creator, message=encode_typed_data(full_message=typed), signature=signature, w3=w3
    )
    if check.valid:
        return check
    try:
        signer = typed_data_signer(typed, signature)
    except Exception:
        raise RegistrationError(ERR_BAD_SIGNATURE) from None
    raise RegistrationError(ERR_WRONG_SIGNER.format(signer=signer, expected=creator))


def registration_sign(*, registration: Registration, signature: str, w3: Web3 | None = None) -> Registration:
    """Store the creator's signature; the registration becomes pending, or held for review when
    a public work of another creator matches it now. Only signed, public works hold others."""
    from works.models import DerivationLink

    for link in (
        DerivationLink.objects.filter(child=registration.work)
        .exclude(status=DerivationLink.Status.APPROVED)
        .select_related("parent")
    ):
        message = ERR_PARENT_REFUSED if link.status == DerivationLink.Status.REFUSED else ERR_PARENTS_PENDING
        raise RegistrationError(message.format(title=link.parent.title), code="parent_not_approved")
    typed = registration_typed_data(registration=registration, w3=w3)
    check = _creator_signature_check(typed, signature, creator=registration.work.creator_address, w3=w3)
    if not registration_signed(registration=registration, typed=typed, signature=signature, check=check):
        raise RegistrationError(ERR_NOT_AWAITING.format(status=registration.get_status_display()))
    return registration


def registration_signed(
    *,
    registration: Registration,
    typed: dict,
    signature: str,
    check: SignatureCheck,
    evidence: list | None = None,
) -> bool:
    """A registration awaiting its signature got one (its own, or its portfolio's): pending, or
    held for review when a public work of another creator matches it now (`evidence`: those
    matches, when the caller knows nothing changed since they were found). Refreshes
    `registration`; False (and nothing changed) when it was no longer awaiting a signature."""
    work = registration.work
    others = evidence
    if others is None:
        others = [
            m
            for m in copies(near_matches(sha256=work.sha256, query=work_query(work), exclude_id=work.pk))
            if m["owner_id"] != work.owner_id
        ]
    status = Status.HELD if others else Status.PENDING
    with transaction.atomic():
        updated = Registration.objects.filter(pk=registration.pk, status=Status.AWAITING_SIGNATURE).update(
            status=status,
            typed_data=typed,
            digest=typed_data_digest(typed),
            signature=signature,
            signer_kind=check.kind,
            signature_block=check.block,
            signed_at=timezone.now(),
            hold_evidence=others,
            hold_reason=HOLD_REASON if others else "",
        )
        if updated == 1 and status == Status.PENDING:
            fingerprint_publish(work=work)
        if updated == 1 and status == Status.HELD:
            registration.refresh_from_db()
            hooks.registration_held(registration=registration)  # a dispute: one moderation queue
    registration.refresh_from_db()
    return updated == 1


def registration_revoke(
    *, work: Work, moderator, reason: str, rightful_work, reference: str, signed: dict
) -> Revocation:
    """Revoke a work's registration: its status, a platform-signed revocation (`signed`: the
    timestamp, typed data, digest, signature and signer, prepared before the transaction) that
    joins the next anchor batch, and the work out of the fingerprint index. Call inside the
    caller's transaction."""
    registration = work.registration
    was_public = registration.status in PUBLIC_STATUSES
    Registration.objects.filter(pk=registration.pk).update(status=REVOKED)
    revocation = Revocation.objects.create(
        work=work,
        reason=reason[:1000],
        decided_by=moderator,
        rightful_work=rightful_work,
        reference=reference,
        **signed,
    )
    if was_public:
        fingerprint_unpublish(work=work)
    return revocation


def registration_release(*, registration: Registration) -> Registration:
    """A moderator found the match harmless: the work becomes public and joins the next batch."""
    with transaction.atomic():
        if (
            Registration.objects.filter(pk=registration.pk, status=Status.HELD).update(status=Status.PENDING)
            != 1
        ):
            raise RegistrationError(ERR_NOT_HELD)
        fingerprint_publish(work=registration.work)
    registration.refresh_from_db()
    return registration


def registration_reject(*, registration: Registration) -> Registration:
    """A moderator upheld the match: the registration is never anchored nor public."""
    if (
        Registration.objects.filter(pk=registration.pk, status=Status.HELD).update(status=Status.REJECTED)
        != 1
    ):
        raise RegistrationError(ERR_NOT_HELD)
    registration.refresh_from_db()
    return registration


ERR_BAD_URL = "“{url}” is not a web address (http:// or https://)."
ERR_MAX_PUBLICATIONS = "A work can list at most {limit} places it is published."
MAX_PUBLICATIONS = 50


def publication_add(*, work: Work, url: str):
    """Declare a public place where the work is published: dataset rows with this URL (or the
    same URL with tracking parameters, www., http/https or a trailing slash) match the work."""
    from works.models import WorkPublication
    from works.publications import url_key

    url = (url or "").strip()
    key = url_key(url) if url.lower().startswith(("http://", "https://")) else None
    if key is None or len(key) > 500:
        raise PortalError(ERR_BAD_URL.format(url=url[:200]), status=400, code="invalid_url")
    if work.publications.count() >= MAX_PUBLICATIONS:
        raise PortalError(ERR_MAX_PUBLICATIONS.format(limit=MAX_PUBLICATIONS), status=400, code="too_many")
    publication, _ = WorkPublication.objects.get_or_create(work=work, key=key, defaults={"url": url})
    return publication


def publication_remove(*, work: Work, publication_id: int) -> None:
    work.publications.filter(pk=publication_id).delete()


def digest_record(*, work: Work, data: bytes, kind: str) -> None:
    """Remember the sha256 of bytes the portal served for a work (a licensed download)."""
    WorkDigest.objects.get_or_create(
        work=work, sha256=hashlib.sha256(data).hexdigest(), defaults={"kind": kind}
    )
