"""Writes for works: upload, signing the registration, and anchoring batches on-chain."""

import contextlib
import io
import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageOps
from web3 import Web3

from portal.chain.contracts import REGISTRY, contract, contract_address
from portal.chain.models import ChainTransaction
from portal.chain.sender import SenderContext, sender_context, transaction_refresh, transaction_send
from works import eip712
from works.fingerprint_index import fingerprint_index
from works.fingerprints import pdq_distance, pdq_image, sha256_of
from works.merkle import LEAF_ENCODING, StandardMerkleTree
from works.models import AnchorBatch, Registration, Work
from works.validation import image_check

logger = logging.getLogger(__name__)

ERR_NOT_AWAITING = "This registration is already signed ({status})."
ERR_WRONG_SIGNER = "The signature was made by {signer}, not by your signed-in wallet {expected}."
ERR_BAD_SIGNATURE = "The signature is not a valid EIP-712 signature of this registration."
HOLD_REASON = (
    "This image matches a work already registered by another creator, so a moderator will review "
    "it before it is anchored."
)
PREVIEW_SIZE = 1600
THUMBNAIL_SIZE = 480
Status = Registration.Status


def _render(image: Image.Image, size: int) -> ContentFile:
    """A re-encoded JPEG with orientation applied and no metadata (EXIF, GPS) carried over."""
    copy = ImageOps.exif_transpose(image)
    copy = copy.convert("RGB")
    copy.thumbnail((size, size), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    copy.save(buffer, format="JPEG", quality=85, optimize=True, progressive=True)
    return ContentFile(buffer.getvalue())


def near_matches(*, sha256: str, pdq: str, exclude_id: int | None = None) -> list[dict]:
    """Registered works identical (sha256) or near (PDQ within the threshold) to a fingerprint."""
    threshold = settings.WORKS_PDQ_THRESHOLD
    found = dict(fingerprint_index().search(pdq, radius=threshold))
    for pk in Work.objects.filter(sha256=sha256).values_list("pk", flat=True):
        found[pk] = 0
    found.pop(exclude_id, None)
    works = Work.objects.filter(pk__in=found).select_related("registration", "registration__batch")
    matches = []
    for work in works:
        registration = getattr(work, "registration", None)
        batch = registration.batch if registration else None
        matches.append(
            {
                "work_id": work.pk,
                "title": work.title,
                "owner_id": work.owner_id,
                "creator_address": work.creator_address,
                "distance": pdq_distance(pdq, work.pdq) if work.sha256 != sha256 else 0,
                "exact": work.sha256 == sha256,
                "registered_at": work.created_at.isoformat(),
                "anchored_at": batch.block_timestamp.isoformat() if batch and batch.block_timestamp else None,
            }
        )
    return sorted(matches, key=lambda m: (m["distance"], m["work_id"]))


def work_upload(
    *, user, creator_address: str, file, title: str, description: str = "", tags: list[str] | None = None
) -> Work:
    """Validate, fingerprint and store an upload; create its unsigned registration.

    1. Validate the file (raises InvalidImage; nothing is written before this passes).
    2. Fingerprint: sha256 of the bytes, PDQ after the shared normalisation.
    3. Look for identical or near works; another creator's match holds the registration,
       the creator's own becomes `version_of`.
    4. Write the private original, the public preview and thumbnail, and the rows, in one
       transaction; files written for a transaction that fails are removed.
    """
    checked = image_check(file)
    sha256 = sha256_of(file)
    with Image.open(file, formats=[checked.format]) as image:
        pdq, quality = pdq_image(image)
    file.seek(0)
    with Image.open(file, formats=[checked.format]) as image:
        preview, thumbnail = _render(image, PREVIEW_SIZE), _render(image, THUMBNAIL_SIZE)
    file.seek(0)

    matches = near_matches(sha256=sha256, pdq=pdq)
    others = [m for m in matches if m["owner_id"] != user.pk]
    own = [m for m in matches if m["owner_id"] == user.pk]

    work = Work(
        owner=user,
        creator_address=creator_address,
        title=title.strip(),
        description=description.strip(),
        tags=tags or [],
        original_name=(file.name or "")[:255],
        mime=checked.mime,
        width=checked.width,
        height=checked.height,
        size=checked.size,
        sha256=sha256,
        pdq=pdq,
        pdq_quality=quality,
        version_of_id=own[0]["work_id"] if own else None,
    )
    written = []
    try:
        with transaction.atomic():
            work.original.save(f"upload.{checked.format.lower()}", file, save=False)
            written.append(work.original)
            work.preview.save("preview.jpg", preview, save=False)
            written.append(work.preview)
            work.thumbnail.save("thumb.jpg", thumbnail, save=False)
            written.append(work.thumbnail)
            work.save()
            Registration.objects.create(
                work=work,
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
    from portal.chain.client import get_web3

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
        verifying_contract=contract_address(w3=w3, name=REGISTRY),
    )


class RegistrationError(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def registration_sign(*, registration: Registration, signature: str, w3: Web3 | None = None) -> Registration:
    """Store the creator's signature; the registration becomes pending (or held for review)."""
    typed = registration_typed_data(registration=registration, w3=w3)
    try:
        signer = eip712.typed_data_signer(typed, signature)
    except Exception:
        raise RegistrationError(ERR_BAD_SIGNATURE)
    expected = registration.work.creator_address
    if signer != expected:
        raise RegistrationError(ERR_WRONG_SIGNER.format(signer=signer, expected=expected))
    status = Status.HELD if registration.hold_evidence else Status.PENDING
    updated = Registration.objects.filter(pk=registration.pk, status=Status.AWAITING_SIGNATURE).update(
        status=status,
        typed_data=typed,
        digest=eip712.typed_data_digest(typed),
        signature=signature,
        signed_at=timezone.now(),
    )
    registration.refresh_from_db()
    if updated != 1:
        raise RegistrationError(ERR_NOT_AWAITING.format(status=registration.get_status_display()))
    return registration


def leaf_value(registration: Registration) -> list:
    return [
        bytes.fromhex(registration.digest[2:]),
        registration.work.creator_address,
        bytes.fromhex(registration.work.sha256),
        registration.timestamp,
    ]


def batch_seal(*, max_size: int | None = None, w3: Web3 | None = None) -> AnchorBatch | None:
    """Claim up to `max_size` pending registrations into a new batch and build its tree.

    The claim is a conditional update on `batch IS NULL`, so a registration joins one batch
    only, however many workers seal at once.
    """
    from portal.chain.client import get_web3

    w3 = w3 or get_web3()
    max_size = max_size or settings.ANCHOR_BATCH_MAX
    with transaction.atomic():
        candidates = list(
            Registration.objects.filter(status=Status.PENDING, batch__isnull=True)
            .order_by("signed_at", "pk")
            .values_list("pk", flat=True)[:max_size]
        )
        if not candidates:
            return None
        batch = AnchorBatch.objects.create(
            root="pending-" + str(timezone.now().timestamp()) + "-" + str(candidates[0]),
            size=0,
            chain_id=w3.eth.chain_id,
            contract_address=contract_address(w3=w3, name=REGISTRY),
            tree={},
        )
        Registration.objects.filter(pk__in=candidates, batch__isnull=True, status=Status.PENDING).update(
            batch=batch
        )
        members = list(batch.registrations.select_related("work").order_by("pk"))
        if not members:
            batch.delete()
            return None
        tree = StandardMerkleTree.of([leaf_value(r) for r in members], LEAF_ENCODING)
        for index, registration in enumerate(members):
            registration.leaf = Web3.to_hex(tree.leaf(index))
            registration.leaf_value = tree.dump()["values"][index]["value"]
            registration.proof = [Web3.to_hex(p) for p in tree.proof(index)]
        Registration.objects.bulk_update(members, ["leaf", "leaf_value", "proof"])
        batch.root = Web3.to_hex(tree.root)
        batch.size = len(members)
        batch.tree = tree.dump()
        batch.save(update_fields=["root", "size", "tree"])
    return batch


class BatchAlreadySent(Exception):
    pass


def batch_send(*, batch: AnchorBatch, ctx: SenderContext | None = None) -> AnchorBatch:
    """Send the batch's one anchoring transaction, unless it already has one.

    The link batch -> transaction commits in the same database transaction as the signed
    transaction itself, before the broadcast, so a crash anywhere leaves either nothing sent
    or a stored transaction that `batch_refresh` follows (and re-broadcasts, same bytes).
    """
    ctx = ctx or sender_context()
    if not AnchorBatch.objects.filter(
        pk=batch.pk, transaction__isnull=True, status=AnchorBatch.Status.SEALED
    ).exists():
        batch.refresh_from_db()
        return batch
    registry = contract(w3=ctx.w3, name=REGISTRY)
    anchored_at = registry.functions.anchoredAt(batch.root).call()
    if anchored_at != 0:
        # Already on-chain (a run that died before recording it, or an operator): nothing to send.
        with transaction.atomic():
            AnchorBatch.objects.filter(pk=batch.pk).update(
                status=AnchorBatch.Status.CONFIRMED,
                block_timestamp=datetime.fromtimestamp(anchored_at, tz=UTC),
            )
            Registration.objects.filter(batch_id=batch.pk).update(status=Status.CONFIRMED)
        batch.refresh_from_db()
        return batch

    def link(tx):
        claimed = AnchorBatch.objects.filter(pk=batch.pk, transaction__isnull=True).update(
            transaction=tx, status=AnchorBatch.Status.SENT
        )
        if claimed != 1:
            raise BatchAlreadySent(batch.pk)
        Registration.objects.filter(batch_id=batch.pk).update(status=Status.SENT)

    with contextlib.suppress(BatchAlreadySent):  # another worker sent it first
        transaction_send(
            purpose=f"anchor:{batch.pk}",
            to=registry.address,
            data=registry.encode_abi("anchor", args=[batch.root]),
            ctx=ctx,
            on_stored=link,
        )
    batch.refresh_from_db()
    return batch


_TX_TO_BATCH = {
    ChainTransaction.Status.SIGNED: AnchorBatch.Status.SENT,
    ChainTransaction.Status.BROADCAST: AnchorBatch.Status.SENT,
    ChainTransaction.Status.MINED: AnchorBatch.Status.MINED,
    ChainTransaction.Status.CONFIRMED: AnchorBatch.Status.CONFIRMED,
    ChainTransaction.Status.FAILED: AnchorBatch.Status.FAILED,
}
_BATCH_TO_REGISTRATION = {
    AnchorBatch.Status.SENT: Status.SENT,
    AnchorBatch.Status.MINED: Status.MINED,
    AnchorBatch.Status.CONFIRMED: Status.CONFIRMED,
}


def batch_refresh(*, batch: AnchorBatch, ctx: SenderContext | None = None) -> AnchorBatch:
    """Mirror the anchoring transaction's state onto the batch and its registrations.

    A reverted anchor whose root is nonetheless on-chain counts as anchored; one that is not
    sends its registrations back to pending, to be sealed into a new batch.
    """
    ctx = ctx or sender_context()
    if batch.transaction_id is None:
        return batch
    tx = transaction_refresh(tx=batch.transaction, ctx=ctx)
    status = _TX_TO_BATCH[tx.status]
    with transaction.atomic():
        batch = AnchorBatch.objects.select_for_update().get(pk=batch.pk)
        if status == AnchorBatch.Status.FAILED:
            registry = contract(w3=ctx.w3, name=REGISTRY)
            if registry.functions.anchoredAt(batch.root).call() == 0:
                batch.status = AnchorBatch.Status.FAILED
                batch.save(update_fields=["status"])
                batch.registrations.update(
                    status=Status.PENDING, batch=None, leaf="", leaf_value=None, proof=[]
                )
                return batch
            status = AnchorBatch.Status.CONFIRMED
        batch.status = status
        if tx.block_number is not None:
            block = ctx.w3.eth.get_block(tx.block_number)
            batch.block_number = tx.block_number
            batch.block_timestamp = datetime.fromtimestamp(block["timestamp"], tz=UTC)
        else:
            batch.block_number = batch.block_timestamp = None
        batch.save(update_fields=["status", "block_number", "block_timestamp"])
        batch.registrations.exclude(status=Status.REJECTED).update(status=_BATCH_TO_REGISTRATION[status])
    return batch


def anchor_tick(*, ctx: SenderContext | None = None, now: datetime | None = None) -> dict:
    """One beat: seal a batch when enough are pending or the oldest has waited long enough,
    send sealed batches, and refresh batches in flight."""
    ctx = ctx or sender_context()
    now = now or timezone.now()
    pending = Registration.objects.filter(status=Status.PENDING, batch__isnull=True)
    count = pending.count()
    oldest = pending.order_by("signed_at").values_list("signed_at", flat=True).first()
    sealed = 0
    if count and (
        count >= settings.ANCHOR_BATCH_MAX or oldest <= now - timedelta(seconds=settings.ANCHOR_BATCH_SECONDS)
    ):
        while batch_seal(w3=ctx.w3):
            sealed += 1
    sent = 0
    for batch in AnchorBatch.objects.filter(status=AnchorBatch.Status.SEALED, transaction__isnull=True):
        batch_send(batch=batch, ctx=ctx)
        sent += 1
    refreshed = 0
    in_flight = AnchorBatch.objects.filter(
        status__in=[AnchorBatch.Status.SENT, AnchorBatch.Status.MINED]
    ).select_related("transaction")
    for batch in in_flight:
        batch_refresh(batch=batch, ctx=ctx)
        refreshed += 1
    return {"sealed": sealed, "sent": sent, "refreshed": refreshed}


ERR_NOT_HELD = "Only registrations held for review can be released or rejected."


def registration_release(*, registration: Registration) -> Registration:
    """A moderator found the match harmless: the registration joins the next batch."""
    if Registration.objects.filter(pk=registration.pk, status=Status.HELD).update(status=Status.PENDING) != 1:
        raise RegistrationError(ERR_NOT_HELD)
    registration.refresh_from_db()
    return registration


def registration_reject(*, registration: Registration) -> Registration:
    """A moderator upheld the match: the registration is never anchored."""
    if (
        Registration.objects.filter(pk=registration.pk, status=Status.HELD).update(status=Status.REJECTED)
        != 1
    ):
        raise RegistrationError(ERR_NOT_HELD)
    registration.refresh_from_db()
    return registration
