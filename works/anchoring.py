"""The anchoring flow: pending registrations -> a sealed Merkle batch -> one transaction that
stores its root in ProvenanceRegistry -> confirmed, with a proof per registration.

1. `batch_seal` claims pending registrations into a batch (a conditional update, so one
   registration joins one batch however many workers seal at once) and builds an OpenZeppelin
   StandardMerkleTree over their leaves.
2. `batch_send` sends the batch's one anchoring transaction through `core.chain.sender`,
   linked to the batch before anything is broadcast.
3. `batch_refresh` mirrors the transaction's state (mined, confirmed, reorganised away,
   reverted) onto the batch and its registrations.
4. `anchor_tick` (the beat task) runs the three whenever a batch is due.
"""

import contextlib
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from web3 import Web3

from core.chain import registry
from core.chain.client import get_web3
from core.chain.merkle import LEAF_ENCODING, LEAF_REGISTRATION, LEAF_REVOCATION, StandardMerkleTree
from core.chain.models import ChainTransaction
from core.chain.sender import SenderContext, sender_context, transaction_refresh, transaction_send
from works.models import AnchorBatch, Registration, Revocation

Status = Registration.Status
RevocationStatus = Revocation.Status


def leaf_value(registration: Registration) -> list:
    """A registration's leaf says what it is (kind 1) and who signed it: the creator."""
    return [
        LEAF_REGISTRATION,
        bytes.fromhex(registration.digest[2:]),
        registration.work.creator_address,
        bytes.fromhex(registration.work.sha256),
        registration.timestamp,
    ]


def revocation_leaf_value(revocation: Revocation) -> list:
    """A revocation's leaf: kind 2, the revocation's digest, the platform key that signed it,
    the work's content hash, when it was revoked."""
    return [
        LEAF_REVOCATION,
        bytes.fromhex(revocation.digest[2:]),
        revocation.signer,
        bytes.fromhex(revocation.work.sha256),
        revocation.timestamp,
    ]


def batch_seal(*, max_size: int | None = None, w3: Web3 | None = None) -> AnchorBatch | None:
    """Claim up to `max_size` pending registrations into a new batch and build its tree.

    The claim is a conditional update on `batch IS NULL`, so a registration joins one batch
    only, however many workers seal at once.
    """

    w3 = w3 or get_web3()
    max_size = max_size or settings.ANCHOR_BATCH_MAX
    chain_id, registry_at = w3.eth.chain_id, registry.registry_address(w3=w3)  # read first
    with transaction.atomic():
        candidates = list(
            Registration.objects.filter(status=Status.PENDING, batch__isnull=True)
            .order_by("signed_at", "pk")
            .values_list("pk", flat=True)[:max_size]
        )
        revocations = list(
            Revocation.objects.filter(status=RevocationStatus.PENDING, batch__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)[: max(0, max_size - len(candidates))]
        )
        if not candidates and not revocations:
            return None
        batch = AnchorBatch.objects.create(
            root="pending-"
            + str(timezone.now().timestamp())
            + "-"
            + str(candidates[0] if candidates else f"r{revocations[0]}"),
            size=0,
            chain_id=chain_id,
            contract_address=registry_at,
            tree={},
        )
        Registration.objects.filter(pk__in=candidates, batch__isnull=True, status=Status.PENDING).update(
            batch=batch
        )
        Revocation.objects.filter(
            pk__in=revocations, batch__isnull=True, status=RevocationStatus.PENDING
        ).update(batch=batch)
        members = list(batch.registrations.select_related("work").order_by("pk"))
        revoked = list(batch.revocations.select_related("work").order_by("pk"))
        if not members and not revoked:
            batch.delete()
            return None
        tree = StandardMerkleTree.of(
            [leaf_value(r) for r in members] + [revocation_leaf_value(r) for r in revoked], LEAF_ENCODING
        )
        values = tree.dump()["values"]
        for index, row in enumerate([*members, *revoked]):
            row.leaf = Web3.to_hex(tree.leaf(index))
            row.leaf_value = values[index]["value"]
            row.proof = [Web3.to_hex(p) for p in tree.proof(index)]
        Registration.objects.bulk_update(members, ["leaf", "leaf_value", "proof"])
        Revocation.objects.bulk_update(revoked, ["leaf", "leaf_value", "proof"])
        batch.root = Web3.to_hex(tree.root)
        batch.size = len(members) + len(revoked)
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
    # The registry the batch was sealed for (a version 1 batch still in flight keeps its own).
    anchored_at = registry.anchored_at(w3=ctx.w3, address=batch.contract_address, root=batch.root)
    if anchored_at != 0:
        # Already on-chain (a run that died before recording it, or an operator): nothing to send.
        with transaction.atomic():
            AnchorBatch.objects.filter(pk=batch.pk).update(
                status=AnchorBatch.Status.CONFIRMED,
                block_timestamp=datetime.fromtimestamp(anchored_at, tz=UTC),
            )
            Registration.objects.filter(batch_id=batch.pk).exclude(status__in=_SETTLED).update(
                status=Status.CONFIRMED
            )
            Revocation.objects.filter(batch_id=batch.pk).update(status=RevocationStatus.CONFIRMED)
        batch.refresh_from_db()
        return batch

    def link(tx):
        claimed = AnchorBatch.objects.filter(pk=batch.pk, transaction__isnull=True).update(
            transaction=tx, status=AnchorBatch.Status.SENT
        )
        if claimed != 1:
            raise BatchAlreadySent(batch.pk)
        Registration.objects.filter(batch_id=batch.pk).exclude(status__in=_SETTLED).update(status=Status.SENT)
        Revocation.objects.filter(batch_id=batch.pk).update(status=RevocationStatus.SENT)

    to, data = registry.anchor_call(w3=ctx.w3, address=batch.contract_address, root=batch.root)
    with contextlib.suppress(BatchAlreadySent):  # another worker sent it first
        transaction_send(
            purpose=f"anchor:{batch.pk}",
            to=to,
            data=data,
            ctx=ctx,
            on_stored=link,
        )
    batch.refresh_from_db()
    return batch


# A registration a moderator rejected or revoked keeps that status whatever its batch does.
_SETTLED = (Status.REJECTED, Status.REVOKED)

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
    # Ask the chain first; write in one short transaction after.
    root_on_chain = None
    if status == AnchorBatch.Status.FAILED:
        root_on_chain = registry.anchored_at(w3=ctx.w3, address=batch.contract_address, root=batch.root) != 0
    block_time = None
    if tx.block_number is not None:
        block_time = datetime.fromtimestamp(ctx.w3.eth.get_block(tx.block_number)["timestamp"], tz=UTC)
    with transaction.atomic():
        batch = AnchorBatch.objects.select_for_update().get(pk=batch.pk)
        if status == AnchorBatch.Status.FAILED:
            if not root_on_chain:
                batch.status = AnchorBatch.Status.FAILED
                batch.save(update_fields=["status"])
                batch.registrations.exclude(status__in=_SETTLED).update(
                    status=Status.PENDING, batch=None, leaf="", leaf_value=None, proof=[]
                )
                batch.registrations.filter(status__in=_SETTLED).update(
                    batch=None, leaf="", leaf_value=None, proof=[]
                )
                batch.revocations.update(
                    status=RevocationStatus.PENDING, batch=None, leaf="", leaf_value=None, proof=[]
                )
                return batch
            status = AnchorBatch.Status.CONFIRMED
        batch.status = status
        if tx.block_number is not None:
            batch.block_number = tx.block_number
            batch.block_timestamp = block_time
        else:
            batch.block_number = batch.block_timestamp = None
        batch.save(update_fields=["status", "block_number", "block_timestamp"])
        batch.registrations.exclude(status__in=_SETTLED).update(status=_BATCH_TO_REGISTRATION[status])
        batch.revocations.update(status=_BATCH_TO_REGISTRATION[status])
    return batch


def anchor_tick(*, ctx: SenderContext | None = None, now: datetime | None = None) -> dict:
    """One beat: seal a batch when enough are pending or the oldest has waited long enough,
    send sealed batches, and refresh batches in flight."""
    ctx = ctx or sender_context()
    now = now or timezone.now()
    pending = Registration.objects.filter(status=Status.PENDING, batch__isnull=True)
    revocations = Revocation.objects.filter(status=RevocationStatus.PENDING, batch__isnull=True)
    count = pending.count() + revocations.count()
    oldest = min(
        [
            t
            for t in (
                pending.order_by("signed_at").values_list("signed_at", flat=True).first(),
                revocations.order_by("created_at").values_list("created_at", flat=True).first(),
            )
            if t is not None
        ],
        default=None,
    )
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
