"""What AI companies do (writes): check a manifest against the registry, buy training licences
for many works in one settlement, report training runs (licensed, invoiced, violations, free), pay
invoices; training licences issued and voided from the chain's Settled events and from a dispute's
decision. Reads the denormalised AI terms of each listed work (licensing's CatalogueEntry)."""

import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

import orjson
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from web3 import Web3

from core.chain.clock import chain_now
from core.chain.stablecoin import currency as stablecoin_currency
from core.db import insert_pairs_ignoring_conflicts, raw_rows, values_in
from core.errors import PortalError
from core.fields import wei_from_db
from core.memory import collector_paused
from core.notifications import notify
from licensing.models import AI_TERMS_FIELDS, CatalogueEntry, LicenceTerms
from licensing.terms import AI_FREE, AI_PAID, AI_PROHIBITED
from royalties.models import Settlement
from royalties.settlement import settlement_create
from training.models import (
    Invoice,
    ManifestCheck,
    OrgWork,
    Purpose,
    TrainingLicence,
    TrainingRun,
    TrainingRunWork,
)
from training.selectors import held_licences
from works import hooks
from works.fingerprint_index import fingerprint_index
from works.fingerprints import pdq_distance
from works.models import Work
from works.publications import url_key, works_for_url_keys

MAX_ITEMS = 10_000
ERR_TOO_MANY = "A manifest check takes at most 10,000 items; split the manifest."
ERR_EMPTY = "Send at least one item."
ERR_NO_WORKS = "Name the works: work ids, sha256 values or a manifest check id."
ERR_UNKNOWN_CHECK = "No manifest check {id} in this organisation."
ERR_PROHIBITED = "The creator's terms prohibit {purpose}."
ERR_NOT_OFFERED = "This work is not offered for licensing (all rights reserved)."
ERR_NOT_FOUND = "No public work with this id."
ERR_HELD = "Already licensed to your organisation until {until}."
ERR_DISPUTED = "This work's registration is in dispute; it cannot be licensed until a moderator decides."
ERR_WALLET = "{address} is not one of your organisation's paying wallets."
ERR_WALLET_CHOOSE = "Your organisation pays from several wallets: say which in buyer_address."
ERR_NO_WALLETS = "Your organisation has no paying wallet yet: an admin adds one on the organisation page."
ERR_INVOICE_PAID = "This invoice is already paid."
ERR_CURRENCY = "Quotes are in ETH or {stablecoin}, not {currency}."
ERR_OTHER_CURRENCY = "Priced in {currency}: quote it separately, in {currency} (the API's `currency`)."
_HEX64 = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
_HEX64_LOWER = re.compile(r"[0-9a-f]{64}")
_HEX_LOWER = re.compile(r"[0-9a-f]*")
TRAINING, GENERATIVE = Purpose.TRAINING.value, Purpose.GENERATIVE.value
logger = logging.getLogger(__name__)


class TrainingError(PortalError):
    code = "training_refused"


def normalise_hash(value) -> str | None:
    """64 hex digits, lower case, without 0x; None if `value` is not such a hash."""
    if value is None or not isinstance(value, str):
        return None
    if len(value) == 64 and _HEX64_LOWER.fullmatch(value):  # the common case, as sent
        return value
    if not _HEX64.match(value):
        return None
    return value[-64:].lower()


def normalise_hashes(values: list) -> list[str | None]:
    """normalise_hash of each value, the common case (64 lower-case hex digits, as the API's
    schema lets through) without a call per value: when every value given is such a hash, one
    match over them all says so."""
    given = [v for v in values if v is not None]
    if all(v.__class__ is str and len(v) == 64 for v in given) and _HEX_LOWER.fullmatch("".join(given)):
        return list(values)
    fast = _HEX64_LOWER.fullmatch
    return [
        v if v.__class__ is str and len(v) == 64 and fast(v) else normalise_hash(v) if v is not None else None
        for v in values
    ]


def purpose_terms(entry: CatalogueEntry | None, purpose: str) -> tuple[str, int, object, str]:
    """(status, price, terms id, the price's currency) of a work for one purpose."""
    if entry is None:
        return AI_PROHIBITED, 0, None, "ETH"
    if purpose == Purpose.GENERATIVE:
        return entry.genai_training, int(entry.genai_price_wei), entry.genai_terms_id, entry.genai_currency
    return entry.ai_training, int(entry.ai_price_wei), entry.ai_terms_id, entry.ai_currency


def _disputed(work_ids) -> set[int]:
    return hooks.works_in_registration_dispute(work_ids=work_ids)


# ------------------------------------------------------------------ manifest check


def _url_keys(url: str) -> list[str]:

    key = url_key(url)
    return [key] if key else []


def manifest_check(*, org, key, items: list[dict], model_name: str | None = None) -> ManifestCheck:
    """Match each item (sha256, url or PDQ) to a public registered work; report its AI terms and
    whether this organisation already holds a licence for each purpose (one that covers
    `model_name` when given). Pure reads, then one row that keeps the answer (for quoting and
    reporting against it).

    Built for 10,000 items a request (bench/manifest_check.py): one query answers the sha256
    matches with everything shown of them (covering indexes on the registration status and the
    catalogue's AI terms), each matched work's answer is built once and shared by its items, and
    the results are encoded once, by orjson, as the text that is stored and sent."""

    if not items:
        raise TrainingError(ERR_EMPTY, code="invalid_request")
    if len(items) > MAX_ITEMS:
        raise TrainingError(ERR_TOO_MANY, code="too_many_items")
    with collector_paused():
        results_json, work_ids, matched = _manifest_results(org=org, items=items, model_name=model_name)
    with transaction.atomic():
        check = ManifestCheck.objects.create(
            org=org,
            key=key,
            items=len(items),
            matched=matched,
            results_zstd=ManifestCheck.pack(results_json),
        )
        check.results_json = results_json
        insert_pairs_ignoring_conflicts(OrgWork, ("org", "work"), org.pk, sorted(work_ids))
    return check


def _manifest_results(*, org, items: list[dict], model_name: str | None) -> tuple[bytes, set[int], int]:
    """The results of a manifest check as JSON text (UTF-8), the works matched, and how many items matched."""
    item_shas = normalise_hashes([item.get("sha256") for item in items])
    shas = sorted({h for h in item_shas if h})  # index probes in order: a quarter faster on SQLite
    facts: dict[int, tuple] = {}  # pk -> (title, address, ai, price, currency, genai, price, currency)
    by_sha: dict[str, int] = {}
    if shas:  # the common case answered with one query: the match and everything shown of it
        for sha, pk, *rest in raw_rows(
            Work.objects.public().filter(sha256__in=values_in(shas)).order_by().values_list("sha256", *_FACTS)
        ):
            by_sha.setdefault(sha, pk)
            facts[pk] = rest
    url_keys = {k for item in items if item.get("url") for k in _url_keys(item["url"])}
    by_url = works_for_url_keys(url_keys) if url_keys else {}
    pdqs = normalise_hashes([item.get("pdq") for item in items])
    wanted = [p for p in pdqs if p]
    near = fingerprint_index().search_many(wanted, radius=settings.WORKS_PDQ_THRESHOLD) if wanted else {}
    matches: list[tuple[int, str, int | None] | None] = []
    for item, sha, pdq in zip(items, item_shas, pdqs, strict=True):
        if sha is not None and sha in by_sha:
            matches.append((by_sha[sha], "sha256", None))
            continue
        url = item.get("url")
        url_match = next((by_url[k] for k in _url_keys(url) if k in by_url), None) if url else None
        if url_match:
            matches.append((url_match, "url", None))
        elif pdq and near.get(pdq):
            work_id, distance = near[pdq][0]
            matches.append((work_id, "pdq", distance))
        else:
            matches.append(None)
    work_ids = {m[0] for m in matches if m}
    if missing := work_ids - facts.keys():
        by_pk = Work.objects.filter(pk__in=values_in(missing, kind="int")).values_list(*_FACTS)
        for pk, *rest in raw_rows(by_pk):
            facts[pk] = rest
    unmeasured = {m[0] for m in matches if m and m[1] == "pdq" and m[2] is None}  # distance unknown
    pdq_of = dict(Work.objects.filter(pk__in=unmeasured).values_list("pk", "pdq")) if unmeasured else {}
    held = held_licences(org=org, work_ids=work_ids, model_name=model_name)
    disputed = _disputed(work_ids)
    shared: dict[tuple, dict] = {}  # the same terms, one object (most works offer one of a few)
    answers = {pk: _work_answer(pk, row, held, pk in disputed, shared) for pk, row in facts.items()}
    results = []
    append = results.append
    unmatched = 0
    for index, (item, match, sha, pdq) in enumerate(zip(items, matches, item_shas, pdqs, strict=True)):
        if match is None:
            unmatched += 1
            append(
                {
                    "index": index,
                    "ref": item.get("ref"),
                    "sha256": sha,
                    "url": item.get("url"),
                    "pdq": pdq,
                    "match": None,
                    "terms": None,
                    "in_dispute": None,
                    "exclude": False,
                }
            )
            continue
        work_id, kind, distance = match
        title, address, terms, in_dispute, exclude = answers[work_id]
        if kind == "pdq" and distance is None:
            distance = pdq_distance(pdq, pdq_of[work_id])
        append(
            {
                "index": index,
                "ref": item.get("ref"),
                "sha256": sha,
                "url": item.get("url"),
                "pdq": pdq,
                "match": {
                    "work_id": work_id,
                    "title": title,
                    "creator_address": address,
                    "kind": kind,
                    "distance": distance,
                },
                "terms": terms,
                "in_dispute": in_dispute,
                "exclude": exclude,
            }
        )
    return orjson.dumps(results), work_ids, len(results) - unmatched


# What a manifest check shows of a matched work, read with the match (raw: prices as stored).
_FACTS = ("pk", "title", "creator_address", *(f"catalogue__{name}" for name in AI_TERMS_FIELDS))


def _work_answer(pk: int, row, held: dict, in_dispute: bool, shared: dict) -> tuple:
    """(title, creator address, terms per purpose, in dispute, exclude) of one matched work,
    shared by every item that matched it; terms that hold no licence are shared between works
    through `shared`."""
    title, address, ai, ai_price, ai_currency, genai, genai_price, genai_currency = row
    unlicensed = not held or ((pk, TRAINING) not in held and (pk, GENERATIVE) not in held)
    key = (ai, ai_price, ai_currency, genai, genai_price, genai_currency)
    if unlicensed and (known := shared.get(key)) is not None:
        terms = known
        return title, address, terms, in_dispute, terms[TRAINING]["status"] == AI_PROHIBITED or in_dispute
    if ai is None:  # a work without a catalogue entry offers nothing: prohibited
        purposes = ((TRAINING, AI_PROHIBITED, 0, "ETH"), (GENERATIVE, AI_PROHIBITED, 0, "ETH"))
    else:
        purposes = (
            (TRAINING, ai, wei_from_db(ai_price) if ai == AI_PAID else 0, ai_currency),
            (GENERATIVE, genai, wei_from_db(genai_price) if genai == AI_PAID else 0, genai_currency),
        )
    terms = {}
    for purpose, status, price, currency in purposes:
        licence = held.get((pk, purpose)) if held else None
        terms[purpose] = {
            "status": status,
            "price_wei": str(price),
            "currency": currency,
            "licensed": licence is not None,
            "licensed_until": licence.expires_at.isoformat() if licence and licence.expires_at else None,
        }
    if unlicensed:
        shared[key] = terms
    exclude = terms[TRAINING]["status"] == AI_PROHIBITED or in_dispute
    return title, address, terms, in_dispute, exclude


# ------------------------------------------------------------------ training licence quotes


@dataclass
class QuoteLine:
    work_id: int
    status: str  # "quoted" | "free" | "refused"
    price_wei: int = 0  # in the smallest unit of the quote's currency
    reason: str = ""
    currency: str = "ETH"


def _resolve_works(
    *, org, work_ids=None, sha256s=None, manifest_check_id=None
) -> tuple[list[int], list[str]]:
    """Work ids named by ids, sha256 values or a manifest check of this org; and the identifiers
    that named nothing."""
    ids: list[int] = []
    unmatched: list[str] = []
    if manifest_check_id is not None:
        check = ManifestCheck.objects.filter(org=org, pk=manifest_check_id).first()
        if check is None:
            raise TrainingError(ERR_UNKNOWN_CHECK.format(id=manifest_check_id), status=404, code="not_found")
        ids += check.matched_work_ids()
    if work_ids:
        ids += [int(i) for i in work_ids]
    if sha256s:
        normal = {h: normalise_hash(h) for h in sha256s}
        found = dict(
            Work.objects.public()
            .filter(sha256__in=[v for v in normal.values() if v])
            .values_list("sha256", "pk")
        )
        for raw, sha in normal.items():
            if sha in found:
                ids.append(found[sha])
            else:
                unmatched.append(raw)
    if not ids and not unmatched:
        raise TrainingError(ERR_NO_WORKS, code="invalid_request")
    return list(dict.fromkeys(ids)), unmatched


def training_quote(
    *,
    org,
    purpose: str,
    model_name: str,
    buyer_address: str | None,
    work_ids=None,
    manifest_check_id=None,
    currency: str | None = None,
):
    """One settlement for every licensable work; refused works are listed with the reason.

    A settlement is paid in one currency: `currency` (ETH or the stablecoin), by default ETH
    when any work is priced in it, else the stablecoin. Works priced in the other currency are
    refused with a reason that says to quote them in theirs: amounts of two currencies are never
    added up."""

    buyer_address = paying_wallet(org, buyer_address)
    if currency is not None and currency not in ("ETH", stablecoin_currency()):
        raise TrainingError(
            ERR_CURRENCY.format(currency=currency, stablecoin=stablecoin_currency()), code="invalid_request"
        )
    ids, _ = _resolve_works(org=org, work_ids=work_ids, manifest_check_id=manifest_check_id)
    works = {w.pk: w for w in Work.objects.public().filter(pk__in=ids).select_related("registration")}
    entries = {e.work_id: e for e in CatalogueEntry.objects.filter(work_id__in=ids)}
    held = held_licences(org=org, work_ids=ids, model_name=model_name)
    disputed = _disputed(ids)
    label = Purpose(purpose).label
    terms_ids: dict[int, int] = {}
    lines: list[QuoteLine] = []
    for work_id in ids:
        if work_id not in works:
            lines.append(QuoteLine(work_id, "refused", reason=ERR_NOT_FOUND))
            continue
        status, price, terms_id, price_currency = purpose_terms(entries.get(work_id), purpose)
        terms_ids[work_id] = terms_id
        licence = held.get((work_id, purpose))
        if work_id in disputed:
            lines.append(QuoteLine(work_id, "refused", reason=ERR_DISPUTED))
        elif status == AI_PROHIBITED:
            lines.append(
                QuoteLine(
                    work_id,
                    "refused",
                    reason=ERR_PROHIBITED.format(purpose=label) if entries.get(work_id) else ERR_NOT_OFFERED,
                )
            )
        elif licence is not None:
            until = (
                licence.expires_at.date().isoformat() if licence.expires_at else "its terms end (perpetual)"
            )
            lines.append(QuoteLine(work_id, "refused", reason=ERR_HELD.format(until=until)))
        elif status == AI_FREE:
            lines.append(QuoteLine(work_id, "free"))
        else:
            lines.append(QuoteLine(work_id, "quoted", price_wei=price, currency=price_currency))
    quoted = [line for line in lines if line.status == "quoted"]
    if currency is None:
        in_eth = not quoted or any(line.currency == "ETH" for line in quoted)
        currency = "ETH" if in_eth else quoted[0].currency
    for line in quoted:
        if line.currency != currency:
            line.status, line.reason = "refused", ERR_OTHER_CURRENCY.format(currency=line.currency)
            line.price_wei = 0
    for line in lines:  # every line says what the quote is in
        line.currency = currency
    hashes = _terms_hashes(terms_ids.values())
    priced = [
        (works[line.work_id], line.price_wei, hashes[terms_ids[line.work_id]])
        for line in lines
        if line.status == "quoted"
    ]
    refused = [{"work_id": line.work_id, "reason": line.reason} for line in lines if line.status == "refused"]
    settlement = None
    if priced:
        settlement = settlement_create(
            org=org,
            buyer_address=buyer_address,
            purpose=Settlement.Purpose.TRAINING_LICENCE,
            lines=priced,
            refused=refused,
            training_purpose=purpose,
            model_name=model_name,
            currency=currency,
        )
    return settlement, lines


def _terms_hashes(terms_ids) -> dict[int, str]:
    return dict(
        LicenceTerms.objects.filter(pk__in={t for t in terms_ids if t}).values_list("pk", "terms_hash")
    )


def paying_wallet(org, address: str | None) -> str:
    """The wallet that will pay: the one named, if it is one of the organisation's paying
    wallets; none named, the organisation's only paying wallet."""
    if not address:
        wallets = list(org.wallets.values_list("address", flat=True)[:2])
        if len(wallets) != 1:
            raise TrainingError(ERR_WALLET_CHOOSE if wallets else ERR_NO_WALLETS, code="wallet_required")
        return wallets[0]
    if (
        not Web3.is_address(address)
        or not org.wallets.filter(address=Web3.to_checksum_address(address)).exists()
    ):
        raise TrainingError(ERR_WALLET.format(address=address), code="wallet_not_allowed")
    return Web3.to_checksum_address(address)


def licences_issue_from_settlement(*, settlement: Settlement, event) -> int:
    """Settled (confirmed): the org holds a training licence for every work of a licence
    settlement; an invoice settlement marks its invoice and run lines paid."""
    if settlement.purpose == Settlement.Purpose.INVOICE:
        invoice = Invoice.objects.filter(settlement=settlement).select_related("run").first()
        if invoice is not None:
            Invoice.objects.filter(pk=invoice.pk).update(
                status=Invoice.Status.PAID, paid_at=event.block_timestamp
            )
            TrainingRunWork.objects.filter(invoice=invoice, status=TrainingRunWork.Status.INVOICED).update(
                status=TrainingRunWork.Status.PAID
            )
            _tell_owners_of_sale(
                settlement,
                what=f"paid the invoice of training run “{invoice.run.run_id}” ({invoice.run.model_name})",
            )
        return 0
    sold = {
        work_id: (price, terms_hash)
        for work_id, price, terms_hash in settlement.lines.values_list(
            "work_id", "work_price_wei", "terms_hash"
        ).distinct()
    }
    terms_of: dict[int, LicenceTerms] = {}  # work id -> the terms it was sold under
    by_hash = LicenceTerms.objects.in_bulk({h for _, h in sold.values() if h}, field_name="terms_hash")
    unrecorded = [w for w, (_, h) in sold.items() if not h]
    if unrecorded:  # settled before lines recorded their terms: the work's terms now
        entries = {e.work_id: e for e in CatalogueEntry.objects.filter(work_id__in=unrecorded)}
        current = {w: purpose_terms(entries.get(w), settlement.training_purpose)[2] for w in unrecorded}
        by_id = LicenceTerms.objects.in_bulk([t for t in current.values() if t])
        terms_of.update({w: by_id[t] for w, t in current.items() if t})
    terms_of.update({w: by_hash[h] for w, (_, h) in sold.items() if h})
    parsed = {row.pk: row.terms for row in set(terms_of.values())}  # canonical JSON read once each
    rows = []
    for work_id, (price, _) in sold.items():
        terms = terms_of.get(work_id)
        if terms is None:
            logger.error("settlement %s: no terms known for work %s", settlement.pk, work_id)
            continue
        duration = parsed[terms.pk].duration_days
        rows.append(
            TrainingLicence(
                org=settlement.org,
                work_id=work_id,
                purpose=settlement.training_purpose,
                terms=terms,
                model_name=settlement.model_name,
                model_scope=parsed[terms.pk].ai_model_scope,
                price_wei=price,
                settlement=settlement,
                issued_at=event.block_timestamp,
                expires_at=event.block_timestamp + timedelta(days=duration) if duration else None,
            )
        )
    created = TrainingLicence.objects.bulk_create(rows, ignore_conflicts=True, batch_size=5000)
    OrgWork.objects.bulk_create([OrgWork(org=settlement.org, work_id=w) for w in sold], ignore_conflicts=True)
    _tell_owners_of_sale(
        settlement,
        what=f"bought {Purpose(settlement.training_purpose).label} licences for “{settlement.model_name}”",
    )
    return len(created)


def _tell_owners_of_sale(settlement: Settlement, *, what: str) -> None:
    """One notification per owner per settlement, however many of their works it paid for."""
    per_owner: dict[int, list] = {}
    for work in Work.objects.filter(pk__in=settlement.lines.values("work_id")).select_related("owner"):
        per_owner.setdefault(work.owner_id, []).append(work)
    for works in per_owner.values():
        titles = ", ".join(f"“{w.title}”" for w in works[:3])
        if len(works) > 3:
            titles += f" and {len(works) - 3} more"
        notify(
            user=works[0].owner,
            kind="training_sale",
            text=f"{settlement.org.name} {what}: {titles}.",
            url=reverse("royalties:earnings"),
        )


def training_licences_void(*, work: Work, org_id: int) -> int:
    """Void an organisation's valid training licences of a work (a dispute decided against its use)."""
    return TrainingLicence.objects.filter(
        work=work, org_id=org_id, status=TrainingLicence.Status.VALID
    ).update(status=TrainingLicence.Status.VOID)


def licences_void_from_settlement(*, settlement: Settlement) -> None:
    TrainingLicence.objects.filter(settlement=settlement).update(status=TrainingLicence.Status.VOID)
    Invoice.objects.filter(settlement=settlement).update(status=Invoice.Status.OPEN, paid_at=None)


# ------------------------------------------------------------------ training runs and invoices


def run_report(
    *,
    org,
    run_id: str,
    model_name: str,
    model_version: str = "",
    purpose: str = Purpose.TRAINING,
    started_at=None,
    ended_at=None,
    work_ids=None,
    sha256s=None,
    manifest_check_id=None,
    samples=None,
) -> tuple[TrainingRun, bool]:
    """Record a training run; idempotent on (org, run_id): a second report returns the first.

    Each work used is licensed (a valid licence for the purpose), free (terms allow it freely:
    recorded with attribution), invoiced (paid terms, no licence: a line of the run's invoice in
    the currency of its price, one invoice per currency), or a violation (the terms prohibit it:
    the creator is told)."""
    existing = TrainingRun.objects.filter(org=org, run_id=run_id).first()
    if existing is not None:
        return existing, False
    ids, unmatched = _resolve_works(
        org=org, work_ids=work_ids, sha256s=sha256s, manifest_check_id=manifest_check_id
    )
    public_ids = set(Work.objects.public().filter(pk__in=ids).values_list("pk", flat=True))
    unmatched += [str(i) for i in ids if i not in public_ids]
    ids = [i for i in ids if i in public_ids]
    entries = {e.work_id: e for e in CatalogueEntry.objects.filter(work_id__in=ids)}
    held = held_licences(org=org, work_ids=ids, model_name=model_name)
    samples = {int(k): int(v) for k, v in (samples or {}).items() if str(k).isdigit()}
    rows, totals, currency_of = [], defaultdict(int), {}
    for work_id in ids:
        status, price, terms_id, currency = purpose_terms(entries.get(work_id), purpose)
        licence = held.get((work_id, purpose))
        if licence is not None:
            row = TrainingRunWork(work_id=work_id, status=TrainingRunWork.Status.LICENSED, licence=licence)
        elif status == AI_FREE:
            row = TrainingRunWork(work_id=work_id, status=TrainingRunWork.Status.FREE)
        elif status == AI_PAID:
            row = TrainingRunWork(
                work_id=work_id, status=TrainingRunWork.Status.INVOICED, price_wei=price, terms_id=terms_id
            )
            totals[currency] += price
            currency_of[work_id] = currency
        else:
            row = TrainingRunWork(work_id=work_id, status=TrainingRunWork.Status.VIOLATION)
        row.samples = samples.get(work_id)
        rows.append(row)
    try:
        with transaction.atomic():
            run = TrainingRun.objects.create(
                org=org,
                run_id=run_id[:120],
                model_name=model_name[:200],
                model_version=(model_version or "")[:80],
                purpose=purpose,
                started_at=started_at,
                ended_at=ended_at,
                works_reported=len(ids),
                unmatched=unmatched[:1000],
            )
            invoices = {  # one per currency: amounts of two currencies are never added up
                currency: Invoice.objects.create(org=org, run=run, currency=currency, total_wei=total)
                for currency, total in sorted(totals.items())
                if total
            }
            for row in rows:
                row.run = run
                if row.work_id in currency_of:
                    row.invoice = invoices.get(currency_of[row.work_id])
            TrainingRunWork.objects.bulk_create(rows, batch_size=5000)
            OrgWork.objects.bulk_create([OrgWork(org=org, work_id=w) for w in ids], ignore_conflicts=True)
    except IntegrityError:  # the same run reported twice at once: the first one stands
        return TrainingRun.objects.get(org=org, run_id=run_id[:120]), False
    _tell_creators_of_violations(run)
    return run, True


def _tell_creators_of_violations(run: TrainingRun) -> None:
    violations = run.works.filter(status=TrainingRunWork.Status.VIOLATION).select_related("work__owner")
    for row in violations:
        notify(
            user=row.work.owner,
            kind="training_violation",
            text=(
                f"{run.org.name} reports training “{run.model_name}” on “{row.work.title}”, "
                "which your terms prohibit."
            ),
            url=row.work.get_absolute_url() + "#training",
        )


def invoice_payment(*, invoice: Invoice, buyer_address: str | None):
    """The settlement that pays an open invoice (created once; a fresh one after expiry)."""

    if invoice.status == Invoice.Status.PAID:
        raise TrainingError(ERR_INVOICE_PAID, status=409, code="invoice_paid")
    buyer_address = paying_wallet(invoice.org, buyer_address)
    current = invoice.settlement
    now = chain_now()
    if (
        current is not None
        and current.status == Settlement.Status.OPEN
        and current.expiry > now + 60
        and current.buyer_address == buyer_address
    ):
        return current
    lines = [
        (row.work, int(row.price_wei), row.terms.terms_hash if row.terms_id else "")
        for row in invoice.lines.filter(status=TrainingRunWork.Status.INVOICED).select_related(
            "work", "terms"
        )
    ]
    settlement = settlement_create(
        org=invoice.org,
        buyer_address=buyer_address,
        purpose=Settlement.Purpose.INVOICE,
        lines=lines,
        training_purpose=invoice.run.purpose,
        model_name=invoice.run.model_name,
        currency=invoice.currency,
    )
    Invoice.objects.filter(pk=invoice.pk).update(settlement=settlement)
    invoice.refresh_from_db()
    return settlement
