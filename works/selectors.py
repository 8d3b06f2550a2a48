"""Reads for works. Everything a third party can reach goes through `Work.objects.public()` or
`visible_to(user)` (works/models.py), the one visibility rule."""

from django.db.models import QuerySet
from PIL import Image

from core.chain.merkle import LEAF_ENCODING
from works import hooks
from works.eip712 import PORTFOLIO_LEAF_ENCODING
from works.fingerprint_index import fingerprint_index
from works.fingerprints import sha256_of
from works.matching import COPY, Match, Query, WorkFeatures, distance_to, find, prints
from works.models import Portfolio, Registration, Work
from works.validation import InvalidImage, image_check

_PROVENANCE_RELATED = (
    "registration",
    "registration__batch",
    "registration__batch__transaction",
    "owner__profile",
    "version_of__registration",
)


def works_for_owner(*, user) -> QuerySet[Work]:
    return Work.objects.for_owner(user).select_related("registration", "registration__batch", "revocation")


def work_for_viewer(*, pk: int, user) -> Work | None:
    """The work if `user` may see it (anonymous: public works only), else None."""
    return Work.objects.visible_to(user).select_related(*_PROVENANCE_RELATED).filter(pk=pk).first()


def work_public(*, pk: int) -> Work | None:
    return Work.objects.public().select_related(*_PROVENANCE_RELATED).filter(pk=pk).first()


def work_readable(*, pk: int) -> Work | None:
    """A public or revoked work (its provenance stays checkable after a revocation)."""
    return Work.objects.readable().select_related(*_PROVENANCE_RELATED).filter(pk=pk).first()


def work_for_owner(*, pk: int, user) -> Work | None:
    if user is None or not user.is_authenticated:
        return None
    return Work.objects.for_owner(user).select_related(*_PROVENANCE_RELATED).filter(pk=pk).first()


def near_matches(
    *, sha256: str, query: Query | None, exclude_id: int | None = None, features: WorkFeatures | None = None
) -> list[dict]:
    """Public works identical (sha256) to a picture, or that it is a copy of or similar to after
    the edits pictures go through (`works.matching.find`: crops, borders, captions, mirroring,
    recompression…). Each answer says its verdict: "copy" (identical files are copies) or
    "similar" (a look-alike: shown, never held). Drafts, held and rejected works are never
    matched: they are not in the index, and the exact lookup goes through the same rule."""
    found: dict[int, Match] = {}
    if query is not None:
        for match in find([query], index=fingerprint_index(), features=features or WorkFeatures())[0]:
            found[match.work_id] = match
    for pk in Work.objects.public().filter(sha256=sha256).values_list("pk", flat=True):
        found[pk] = Match(work_id=pk, distance=0, verdict=COPY)
    found.pop(exclude_id, None)
    works = (
        Work.objects.public()
        .filter(pk__in=found)
        .select_related("registration", "registration__batch", "owner__profile")
    )
    matches = []
    for work in works:
        batch = work.registration.batch
        match = found[work.pk]
        exact = work.sha256 == sha256
        matches.append(
            {
                "work_id": work.pk,
                "title": work.title,
                "owner_id": work.owner_id,
                "creator_address": work.creator_address,
                "creator_name": work.creator_name,
                "distance": 0 if exact else distance_to(query, work.pdq),
                "verdict": match.verdict,
                "inliers": match.inliers,
                "exact": exact,
                "registered_at": work.created_at.isoformat(),
                "anchored_at": batch.block_timestamp.isoformat() if batch and batch.block_timestamp else None,
            }
        )
    return sorted(matches, key=lambda m: (m["verdict"] != COPY, m["distance"], m["work_id"]))


def copies(matches: list[dict]) -> list[dict]:
    return [m for m in matches if m["verdict"] == COPY]


def lineage(*, work: Work, viewer) -> dict:
    """What the work page shows of the derivation tree for this viewer: parents (with their
    share; flagged when disputed or revoked), public derivatives, approval requests for the
    owner. The work's money (for its parties) comes from `works.hooks.work_page_context`."""
    from works.models import DerivationLink

    parents = list(
        DerivationLink.objects.filter(child=work).select_related(
            "parent__owner__profile", "parent__registration"
        )
    )
    in_dispute = hooks.works_in_registration_dispute(work_ids=[link.parent_id for link in parents])
    disputed_parents = []
    for link in parents:
        if link.parent_id in in_dispute or link.parent.is_revoked:
            link.parent.flag = "revoked" if link.parent.is_revoked else "in dispute"
            disputed_parents.append(link.parent)
    children = DerivationLink.objects.filter(parent=work, child__in=Work.objects.public()).select_related(
        "child"
    )
    is_owner = viewer is not None and viewer.is_authenticated and viewer.pk == work.owner_id
    requests = []
    if is_owner:
        requests = list(
            DerivationLink.objects.filter(parent=work, status=DerivationLink.Status.PENDING).select_related(
                "child__owner__profile"
            )
        )
    return {
        "parent_links": parents,
        "disputed_parents": disputed_parents,
        "child_links": list(children),
        "derivation_requests": requests,
    }


def fingerprint_upload(uploaded) -> tuple[str, Query | None]:
    """(sha256, the matcher's query or None when the file is not an image we accept) of an
    uploaded file."""
    sha256 = sha256_of(uploaded)
    try:
        checked = image_check(uploaded)
        with Image.open(uploaded, formats=[checked.format]) as image:
            found = prints(image).query
    except InvalidImage:
        return sha256, None
    finally:
        uploaded.seek(0)
    return sha256, found


def registrations_for_sha256(*, sha256: str) -> QuerySet[Registration]:
    """Public and revoked registrations of exactly this file (verify reports the revoked)."""
    return (
        Registration.objects.filter(work__in=Work.objects.readable().filter(sha256=sha256))
        .select_related("work", "work__owner__profile", "batch", "batch__transaction")
        .order_by("signed_at")
    )


def _leaf_description(batch, *, value, hash_) -> dict:
    """How a leaf is made, so anyone can rebuild it: version 2 leaves carry their kind (1 a
    registration, 2 a revocation) and are verified with ProvenanceRegistry.verify(root, proof,
    kind, digest, signer, contentHash, time); version 1 leaves have no kind."""
    encoding = batch.tree["leafEncoding"] if batch is not None and batch.tree else LEAF_ENCODING
    fields = (
        ["kind", "digest", "signer", "contentSha256", "timestamp"]
        if encoding == LEAF_ENCODING
        else ["registrationDigest", "creator", "contentSha256", "timestamp"]
    )
    return {
        "encoding": encoding,
        "fields": fields,
        "value": value,
        "hash": hash_ or None,
        "format": "OpenZeppelin StandardMerkleTree standard-v1: keccak256(keccak256(abi.encode(value)))",
    }


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
        # who signed: a key (EOA), or a smart-contract account whose signature the chain
        # confirmed at signature_block (ERC-1271; ERC-6492 while it was not deployed yet)
        "signer_kind": registration.signer_kind,
        "signature_block": registration.signature_block,
        "creator_name": work.creator_name or None,
        "leaf": _leaf_description(batch, value=registration.leaf_value, hash_=registration.leaf),
        "parents": [
            {
                "work_id": link.parent_id,
                "sha256": link.parent.sha256,
                "title": link.parent.title,
                "share_bps": link.share_bps,
                "status": link.status,
            }
            for link in work.parent_links.select_related("parent").order_by("parent_id")
        ],
        "proof": registration.proof,
        "root": batch.root if batch and batch.tree else None,
        "chain_id": batch.chain_id if batch else None,
        "contract_address": batch.contract_address if batch else None,
        "tx_hash": (tx.mined_hash or tx.tx_hash) if tx else None,
        "block_number": batch.block_number if batch else None,
        "block_timestamp": batch.block_timestamp.isoformat() if batch and batch.block_timestamp else None,
        "revocation": revocation_document(work=work),
        "portfolio": _portfolio_description(registration),
    }


def _portfolio_description(registration) -> dict | None:
    """For a work registered in a portfolio: the one message its creator signed (`signature`
    above is that message's signature) and the proof that this registration's digest is a leaf
    under the message's root."""
    portfolio = registration.portfolio
    if portfolio is None or portfolio.status != portfolio.Status.SIGNED:
        return None
    return {
        "eip712": portfolio.typed_data,
        "root": portfolio.root,
        "count": portfolio.count,
        "leaf_encoding": PORTFOLIO_LEAF_ENCODING,
        "leaf": [registration.digest],
        "proof": registration.portfolio_proof,
        "format": "OpenZeppelin StandardMerkleTree standard-v1: keccak256(keccak256(abi.encode(digest)))",
    }


def revocation_document(*, work: Work) -> dict | None:
    """The signed revocation of a registration and its proof, once a moderator revoked it."""
    from works.models import Revocation

    revocation = Revocation.objects.filter(work=work).select_related("batch", "batch__transaction").first()
    if revocation is None:
        return None
    batch = revocation.batch
    tx = batch.transaction if batch else None
    return {
        "status": revocation.status,
        "reason": revocation.reason,
        "revoked_at": revocation.timestamp,
        "eip712": revocation.typed_data,
        "signature": revocation.signature,
        "signer": revocation.signer,
        "digest": revocation.digest,
        "rightful_work_id": revocation.rightful_work_id,
        "leaf": _leaf_description(batch, value=revocation.leaf_value, hash_=revocation.leaf),
        "proof": revocation.proof,
        "root": batch.root if batch and batch.tree else None,
        "contract_address": batch.contract_address if batch else None,
        "tx_hash": (tx.mined_hash or tx.tx_hash) if tx else None,
        "block_number": batch.block_number if batch else None,
        "block_timestamp": batch.block_timestamp.isoformat() if batch and batch.block_timestamp else None,
    }


def portfolio_for_owner(*, pk: int, user):
    """The user's own portfolio, or None: a portfolio is seen by its owner only."""
    if not user.is_authenticated:
        return None
    return Portfolio.objects.filter(pk=pk, owner=user).first()


def portfolio_works(*, portfolio) -> list[Work]:
    """The portfolio's works, oldest first, with their registrations (two queries)."""
    return list(
        Work.objects.filter(registration__portfolio=portfolio).select_related("registration").order_by("pk")
    )


def portfolios_for_owner(*, user) -> list:
    """The user's portfolios, newest first (one query)."""
    return list(Portfolio.objects.filter(owner=user).order_by("-pk"))
