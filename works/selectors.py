from django.db.models import QuerySet

from works.models import Registration, Work


def works_for_owner(*, user) -> QuerySet[Work]:
    return Work.objects.for_owner(user).select_related("registration", "registration__batch")


def work_with_provenance(*, pk: int) -> Work | None:
    return (
        Work.objects.select_related(
            "registration", "registration__batch", "registration__batch__transaction", "owner"
        )
        .filter(pk=pk)
        .first()
    )


def registrations_for_sha256(*, sha256: str) -> QuerySet[Registration]:
    return (
        Registration.objects.filter(work__sha256=sha256)
        .exclude(status=Registration.Status.AWAITING_SIGNATURE)
        .select_related("work", "batch", "batch__transaction")
        .order_by("signed_at")
    )


def provenance_document(*, work: Work) -> dict:
    """Everything needed to verify a registration offline, without trusting the portal."""
    registration = work.registration
    batch = registration.batch
    tx = batch.transaction if batch else None
    return {
        "work": {"id": work.pk, "title": work.title, "sha256": work.sha256, "pdq": work.pdq},
        "status": registration.status,
        "eip712": registration.typed_data,
        "signature": registration.signature or None,
        "digest": registration.digest or None,
        "creator": work.creator_address,
        "leaf": {
            "encoding": ["bytes32", "address", "bytes32", "uint256"],
            "fields": ["registrationDigest", "creator", "contentSha256", "timestamp"],
            "value": registration.leaf_value,
            "hash": registration.leaf or None,
            "format": "OpenZeppelin StandardMerkleTree standard-v1: keccak256(keccak256(abi.encode(value)))",
        },
        "proof": registration.proof,
        "root": batch.root if batch and batch.tree else None,
        "chain_id": batch.chain_id if batch else None,
        "contract_address": batch.contract_address if batch else None,
        "tx_hash": (tx.mined_hash or tx.tx_hash) if tx else None,
        "block_number": batch.block_number if batch else None,
        "block_timestamp": batch.block_timestamp.isoformat() if batch and batch.block_timestamp else None,
    }
