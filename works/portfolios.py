"""Portfolios: up to 1,000 works uploaded together and registered with one wallet signature.

1. `portfolio_create`; optionally `portfolio_metadata` with a CSV (file name, title, year,
   description) that names the works as they arrive.
2. `portfolio_add` for each file: validated, fingerprinted and checked for near duplicates as any
   upload (`work_upload`); a refusal names the file and the rest go on.
3. `portfolio_seal`: each work's own EIP-712 `Registration` is built and hashed; the digests
   become the leaves of an OpenZeppelin StandardMerkleTree (leaf encoding ["bytes32"]), and the
   creator is asked to sign one EIP-712 `Portfolio` naming the root and the count.
4. `portfolio_sign`: the signature is checked once (EOA or smart-contract account); every work
   becomes pending (or held, as a single registration would be) and carries the portfolio
   signature and its proof, so its provenance stands on its own: its registration, the proof
   that the registration is under the signed root, then the anchor as for any work.
"""

import csv
import io
from datetime import timedelta
from pathlib import PurePosixPath

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from eth_account.messages import encode_typed_data
from web3 import Web3

from core.chain import registry
from core.chain.client import get_web3
from core.chain.eip712 import typed_data_digest
from core.chain.merkle import StandardMerkleTree
from core.chain.signatures import SignatureCheck, signature_check
from core.errors import PortalError
from works import eip712, hooks
from works.models import FingerprintChange, Portfolio, Registration
from works.services import registration_signed, work_upload

Status = Registration.Status

ERR_FULL = "A portfolio holds at most {n} works; start another one for the rest."
ERR_NOT_OPEN = "This portfolio is {status}: no more works can be added to it."
ERR_EMPTY = "Add at least one work before signing the portfolio."
ERR_NOT_SEALED = "This portfolio is {status}; there is nothing to sign."
ERR_SIGNATURE = "The signature is not {address}'s signature of this portfolio."
ERR_NOT_OWNER = "This is not your portfolio."
ERR_CSV = "The CSV could not be read: {detail}."
ERR_CSV_COLUMNS = (
    "The CSV needs a “file” column (the image's file name), and may have “title”, “year” and “description”."
)
ERR_CSV_ROW = "Row {row}: {detail}."
ERR_CSV_TOO_BIG = "The CSV is larger than 1 MB."
CSV_MAX_BYTES = 1_000_000
SIGN_SLICE = 200  # works registered within the signing request; the anchor tick does the rest
CLOCK_MARGIN = timedelta(seconds=5)  # between processes' clocks, for "since the portfolio began"
TITLE_MAX = 200


class PortfolioError(PortalError):
    code = "portfolio_refused"


def portfolio_create(*, user, creator_address: str, title: str = "", preset: str = "") -> Portfolio:
    return Portfolio.objects.create(
        owner=user, creator_address=creator_address, title=title.strip()[:200], preset=preset
    )


def _check_owner(portfolio: Portfolio, user) -> None:
    if portfolio.owner_id != user.pk:
        raise PortfolioError(ERR_NOT_OWNER, status=404)


def portfolio_metadata(*, portfolio: Portfolio, user, data: bytes) -> int:
    """Read a CSV of file name, title, year and description; returns how many rows it named.
    A bad row is refused with its number, and nothing of the CSV is kept."""
    _check_owner(portfolio, user)
    if len(data) > CSV_MAX_BYTES:
        raise PortfolioError(ERR_CSV_TOO_BIG)
    try:
        text = data.decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text)))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise PortfolioError(ERR_CSV.format(detail=str(exc)[:120])) from None
    if not rows or "file" not in {(k or "").strip().lower() for k in rows[0]}:
        raise PortfolioError(ERR_CSV_COLUMNS)
    metadata = {}
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k}
        name = PurePosixPath(row.get("file", "")).name
        if not name:
            raise PortfolioError(ERR_CSV_ROW.format(row=number, detail="no file name"))
        year = row.get("year", "")
        if year and not (year.isdigit() and 1000 <= int(year) <= timezone.now().year):
            raise PortfolioError(ERR_CSV_ROW.format(row=number, detail=f"“{year}” is not a year"))
        if len(row.get("title", "")) > TITLE_MAX:
            raise PortfolioError(
                ERR_CSV_ROW.format(row=number, detail=f"the title is longer than {TITLE_MAX}")
            )
        metadata[name] = {
            "title": row.get("title", ""),
            "year": int(year) if year else None,
            "description": row.get("description", ""),
        }
    Portfolio.objects.filter(pk=portfolio.pk).update(metadata=metadata)
    portfolio.metadata = metadata
    return len(metadata)


def _title_from(name: str) -> str:
    stem = PurePosixPath(name or "untitled").stem
    return (stem.replace("_", " ").replace("-", " ").strip() or "Untitled")[:TITLE_MAX]


def portfolio_add(*, portfolio: Portfolio, user, file):
    """One file of the portfolio: a work awaiting the portfolio's signature (see `work_upload`
    for what is checked). The CSV's row for the file's name gives its title, year and description."""
    _check_owner(portfolio, user)
    if portfolio.status != Portfolio.Status.OPEN:
        raise PortfolioError(ERR_NOT_OPEN.format(status=portfolio.get_status_display()), status=409)
    if portfolio.count >= Portfolio.MAX_WORKS:
        raise PortfolioError(ERR_FULL.format(n=Portfolio.MAX_WORKS), status=409)
    name = PurePosixPath(file.name or "").name
    meta = portfolio.metadata.get(name, {})
    return work_upload(
        user=user,
        creator_address=portfolio.creator_address,
        file=file,
        title=meta.get("title") or _title_from(name),
        description=meta.get("description", ""),
        year=meta.get("year"),
        admit=lambda: _admit(portfolio),
    )


def _admit(portfolio: Portfolio) -> Portfolio:
    """Inside the upload's transaction: the portfolio is still open and has room (row lock)."""
    locked = Portfolio.objects.select_for_update().get(pk=portfolio.pk)
    if locked.status != Portfolio.Status.OPEN:
        raise PortfolioError(ERR_NOT_OPEN.format(status=locked.get_status_display()), status=409)
    if locked.count >= Portfolio.MAX_WORKS:
        raise PortfolioError(ERR_FULL.format(n=Portfolio.MAX_WORKS), status=409)
    Portfolio.objects.filter(pk=locked.pk).update(count=F("count") + 1)
    portfolio.count = locked.count + 1
    return locked


def portfolio_seal(*, portfolio: Portfolio, user, w3: Web3 | None = None) -> Portfolio:
    """Build every work's registration, their tree, and the one message to sign."""
    _check_owner(portfolio, user)
    if portfolio.status == Portfolio.Status.SEALED:
        return portfolio
    if portfolio.status != Portfolio.Status.OPEN:
        raise PortfolioError(ERR_NOT_SEALED.format(status=portfolio.get_status_display()), status=409)
    w3 = w3 or get_web3()
    chain_id, contract = w3.eth.chain_id, registry.registry_address(w3=w3)
    with transaction.atomic():
        locked = Portfolio.objects.select_for_update().get(pk=portfolio.pk)
        if locked.status != Portfolio.Status.OPEN:
            raise PortfolioError(ERR_NOT_OPEN.format(status=locked.get_status_display()), status=409)
        registrations = list(
            Registration.objects.filter(portfolio=locked, status=Status.AWAITING_SIGNATURE)
            .select_related("work")
            .order_by("pk")
        )
        if not registrations:
            raise PortfolioError(ERR_EMPTY)
        for registration in registrations:
            work = registration.work
            registration.typed_data = eip712.registration_typed_data(
                sha256=work.sha256,
                pdq=work.pdq,
                title=work.title,
                terms_hash=registration.terms_hash,
                creator=work.creator_address,
                timestamp=registration.timestamp,
                chain_id=chain_id,
                verifying_contract=contract,
            )
            registration.digest = typed_data_digest(registration.typed_data)
        tree = StandardMerkleTree.of(
            [[Web3.to_bytes(hexstr=r.digest)] for r in registrations], eip712.PORTFOLIO_LEAF_ENCODING
        )
        for index, registration in enumerate(registrations):
            registration.portfolio_proof = [Web3.to_hex(node) for node in tree.proof(index)]
        Registration.objects.bulk_update(
            registrations, ["typed_data", "digest", "portfolio_proof"], batch_size=500
        )
        locked.root = Web3.to_hex(tree.root)
        locked.count = len(registrations)
        locked.typed_data = eip712.portfolio_typed_data(
            creator=locked.creator_address,
            root=locked.root,
            count=locked.count,
            timestamp=int(timezone.now().timestamp()),
            chain_id=chain_id,
            verifying_contract=contract,
        )
        locked.status = Portfolio.Status.SEALED
        locked.save(update_fields=["root", "count", "typed_data", "status"])
    return locked


def portfolio_sign(*, portfolio: Portfolio, user, signature: str, w3: Web3 | None = None) -> Portfolio:
    """Check the one signature, then register every work of the portfolio with it."""
    _check_owner(portfolio, user)
    if portfolio.status != Portfolio.Status.SEALED:
        raise PortfolioError(ERR_NOT_SEALED.format(status=portfolio.get_status_display()), status=409)
    check = signature_check(
        signer=portfolio.creator_address,
        message=encode_typed_data(full_message=portfolio.typed_data),
        signature=signature,
        w3=w3,
    )
    if not check.valid:
        raise PortfolioError(ERR_SIGNATURE.format(address=portfolio.creator_address))
    claimed = Portfolio.objects.filter(pk=portfolio.pk, status=Portfolio.Status.SEALED).update(
        status=Portfolio.Status.SIGNED,
        signature=signature,
        signer_kind=check.kind,
        signature_block=check.block,
        signed_at=timezone.now(),
    )
    if claimed != 1:  # signed by a concurrent request
        portfolio.refresh_from_db()
        raise PortfolioError(ERR_NOT_SEALED.format(status=portfolio.get_status_display()), status=409)
    portfolio.refresh_from_db()
    portfolio_register(portfolio=portfolio, limit=SIGN_SLICE)
    portfolio.refresh_from_db()
    return portfolio


def portfolio_register(*, portfolio: Portfolio, limit: int | None = None) -> int:
    """Register up to `limit` of a signed portfolio's works still awaiting, with its signature
    (each pending, or held as a single registration would be); once none awaits, offer the
    preset's terms (once, whoever finishes). Returns how many were registered. The signing
    request does the first SIGN_SLICE; the anchor tick does the rest (works/tasks.py), so a
    thousand near-duplicate checks never hold one request."""
    if portfolio.status != Portfolio.Status.SIGNED:
        return 0
    check = SignatureCheck(True, portfolio.signer_kind, portfolio.signature_block)
    # Each work was checked for near duplicates when it arrived; when no other creator's work
    # entered or left the public index since the portfolio began, those answers still hold.
    unchanged = (
        not FingerprintChange.objects.filter(created_at__gte=portfolio.created_at - CLOCK_MARGIN)
        .exclude(work__owner_id=portfolio.owner_id)
        .exists()
    )
    awaiting = (
        Registration.objects.filter(portfolio=portfolio, status=Status.AWAITING_SIGNATURE)
        .select_related("work")
        .order_by("pk")
    )
    done = 0
    for registration in awaiting[:limit] if limit is not None else awaiting.iterator(chunk_size=200):
        done += registration_signed(
            registration=registration,
            typed=registration.typed_data,
            signature=portfolio.signature,
            check=check,
            evidence=registration.hold_evidence if unchanged else None,
        )
    if not awaiting.exists():
        finished = Portfolio.objects.filter(pk=portfolio.pk, registered_at__isnull=True).update(
            registered_at=timezone.now()
        )
        if finished == 1:  # the one caller that finished it offers the terms
            hooks.portfolio_signed(portfolio=portfolio)
    return done


def portfolios_register_pending(*, limit: int = 500) -> int:
    """The anchor tick's share: works of signed portfolios the signing request left."""
    done = 0
    for portfolio in Portfolio.objects.filter(
        status=Portfolio.Status.SIGNED, registered_at__isnull=True
    ).order_by("pk"):
        if done >= limit:
            break
        done += portfolio_register(portfolio=portfolio, limit=limit - done)
    return done
