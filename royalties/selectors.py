"""Reads for royalties: split sheets, the derivation tree's shares, earnings."""

from collections import deque
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from core.chain.models import WalletTransaction
from core.chain.stablecoin import units_text
from core.fields import wei_sum
from royalties.models import (
    EarningsDay,
    EarningsWork,
    JournalEntry,
    JournalLine,
    LedgerAccount,
    SplitSheet,
)
from royalties.roles import role_words
from works.models import DerivationLink, Work

MAX_DEPTH = 10  # generations of ancestors a work may have
MAX_PARENTS = 8  # parents a work may declare


def accepted_sheet(*, work) -> SplitSheet | None:
    return (
        SplitSheet.objects.filter(work=work, status=SplitSheet.Status.ACCEPTED)
        .prefetch_related("parties")
        .first()
    )


def accepted_sheet_parties(*, work) -> list[tuple[str, int, str]]:
    """(address, bps, role) of the co-creators on the work's accepted split sheet."""
    sheet = accepted_sheet(work=work)
    if sheet is None:
        return []
    return [(p.address, p.bps, p.role) for p in sheet.parties.all()]


def ancestor_edges(*, work, extra_links=()) -> list[tuple[object, int, int]]:
    """Every approved derivation edge above `work`: (parent work, share bps, depth). Each edge is
    counted once; an ancestor reached by two edges is owed both shares (Story Protocol's
    "liquid absolute percentage": every share is of the sold work's revenue). `extra_links`
    adds (parent, bps) pairs the work is about to declare."""

    edges = []
    seen_links = set()
    queue = deque([(work.pk, 0)] if work.pk else [])
    for parent, bps in extra_links:
        edges.append((parent, bps, 1))
        queue.append((parent.pk, 1))
    while queue:
        child_id, depth = queue.popleft()
        links = DerivationLink.objects.filter(
            child_id=child_id, status=DerivationLink.Status.APPROVED
        ).select_related("parent")
        for link in links:
            if link.pk in seen_links:
                continue
            seen_links.add(link.pk)
            edges.append((link.parent, link.share_bps, depth + 1))
            queue.append((link.parent_id, depth + 1))
    return edges


def upstream_shares(*, work) -> list[tuple[object, int]]:
    """(ancestor, bps) pairs of the derivative revenue shares owed up the work's tree."""
    return [(parent, bps) for parent, bps, _ in ancestor_edges(work=work) if bps]


# ------------------------------------------------------------------ earnings


EARNING_KINDS = (LedgerAccount.Kind.CREDITED, LedgerAccount.Kind.ALLOCATED)
PAGE_SIZE = 50


def earning_accounts(*, address: str) -> dict[str, list[int]]:
    """The party's earning accounts by currency (one query): amounts of two currencies never
    add up."""
    accounts: dict[str, list[int]] = {}
    rows = LedgerAccount.objects.filter(address=address, kind__in=EARNING_KINDS).values_list("currency", "pk")
    for currency, pk in rows:
        accounts.setdefault(currency, []).append(pk)
    return accounts


def earning_account_ids(*, address: str, currency: str = "ETH") -> list[int]:
    return earning_accounts(address=address).get(currency, [])


@dataclass
class EarningsTotals:
    all_time: int
    last_30_days: int
    in_period: int
    lines: int


def earnings_totals(*, address: str) -> dict[str, EarningsTotals]:
    """The party's totals in each currency it earned in, ETH always first (one query over the
    day aggregates: a few rows whatever the number of lines)."""
    rows = EarningsDay.objects.filter(account__address=address, account__kind__in=EARNING_KINDS).values_list(
        "account__currency", "day", "amount", "lines"
    )
    cutoff = timezone.now().date() - timedelta(days=29)
    totals = {"ETH": EarningsTotals(0, 0, 0, 0)}
    for currency, day, amount, lines in rows:
        total = totals.setdefault(currency, EarningsTotals(0, 0, 0, 0))
        total.all_time += amount
        total.in_period += amount
        total.lines += lines
        if day >= cutoff:
            total.last_30_days += amount
    return totals


def earnings_overview(*, account_ids, start: date | None = None, end: date | None = None):
    """(totals, [(day, amount)] of the period) from one read of the day aggregates."""
    rows = list(EarningsDay.objects.filter(account_id__in=account_ids).values_list("day", "amount", "lines"))
    cutoff = timezone.now().date() - timedelta(days=29)
    in_period = [r for r in rows if (start is None or r[0] >= start) and (end is None or r[0] <= end)]
    by_day: dict[date, int] = {}
    for day, amount, _ in in_period:
        by_day[day] = by_day.get(day, 0) + amount
    totals = EarningsTotals(
        all_time=sum(r[1] for r in rows),
        last_30_days=sum(r[1] for r in rows if r[0] >= cutoff),
        in_period=sum(r[1] for r in in_period),
        lines=sum(r[2] for r in in_period),
    )
    return totals, sorted(by_day.items())


def earnings_by_day(
    *, account_ids, start: date | None = None, end: date | None = None
) -> list[tuple[date, int]]:
    totals: dict[date, int] = {}
    qs = EarningsDay.objects.filter(account_id__in=account_ids)
    if start:
        qs = qs.filter(day__gte=start)
    if end:
        qs = qs.filter(day__lte=end)
    for day, amount in qs.values_list("day", "amount"):
        totals[day] = totals.get(day, 0) + amount
    return sorted(totals.items())


def _period_bounds(start: date | None, end: date | None):
    low = datetime.combine(start, datetime.min.time(), tzinfo=UTC) if start else None
    high = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=UTC) if end else None
    return low, high


def earnings_lines(
    *,
    account_ids,
    start=None,
    end=None,
    work_id=None,
    before: tuple[datetime, int] | None = None,
    limit=PAGE_SIZE,
):
    """Line items, newest first, keyset-paged on (occurred_at, id): deep pages cost the same as
    the first. One indexed query per account (a party has at most two: credited, allocated),
    each reading `limit` rows off the index in order, merged here."""
    low, high = _period_bounds(start, end)
    found = []
    for account_id in account_ids:
        qs = JournalLine.objects.filter(account_id=account_id, earning=True)
        if work_id:
            qs = qs.filter(sold_work_id=work_id)
        if low:
            qs = qs.filter(occurred_at__gte=low)
        if high:
            qs = qs.filter(occurred_at__lt=high)
        if before:
            at, pk = before
            qs = qs.filter(Q(occurred_at__lt=at) | Q(occurred_at=at, pk__lt=pk))
        found += qs.select_related("entry", "work", "sold_work").order_by("-occurred_at", "-pk")[:limit]
    found.sort(key=lambda line: (line.occurred_at, line.pk), reverse=True)
    return found[:limit]


def earnings_lines_all(*, account_ids, start=None, end=None, work_id=None):
    """Every line of a period (the CSV statement), streamed in keyset pages."""
    before = None
    while True:
        page = earnings_lines(
            account_ids=account_ids, start=start, end=end, work_id=work_id, before=before, limit=2000
        )
        yield from page
        if len(page) < 2000:
            return
        before = (page[-1].occurred_at, page[-1].pk)


def earnings_lines_sum(*, account_ids, start=None, end=None, work_id=None) -> int:
    qs = JournalLine.objects.filter(account_id__in=account_ids, earning=True)
    low, high = _period_bounds(start, end)
    if low:
        qs = qs.filter(occurred_at__gte=low)
    if high:
        qs = qs.filter(occurred_at__lt=high)
    if work_id:
        qs = qs.filter(sold_work_id=work_id)
    return wei_sum(qs, "amount")


def earning_works(*, account_ids) -> list[tuple[int, str]]:
    """(id, title) of works this party earned from, for the filter."""

    sold = EarningsWork.objects.filter(account_id__in=account_ids).values("sold_work_id")
    return list(Work.objects.filter(pk__in=sold).order_by("title").values_list("pk", "title"))


def earnings_for_work(*, account_ids, work_id) -> int:
    return sum(
        EarningsWork.objects.filter(account_id__in=account_ids, sold_work_id=work_id).values_list(
            "amount", flat=True
        )
    )


def withdrawals_for(*, address: str):
    """Confirmed withdrawals (from the ledger) and those still on their way (reported)."""
    confirmed = list(
        JournalEntry.objects.filter(
            kind=JournalEntry.Kind.WITHDRAWAL,
            lines__account__address=address,
            lines__account__kind=LedgerAccount.Kind.WITHDRAWN,
            lines__account__currency="ETH",
        )
        .order_by("-occurred_at")
        .values("tx_hash", "occurred_at", "lines__amount")[:100]
    )
    pending = list(
        WalletTransaction.objects.filter(kind=WalletTransaction.Kind.WITHDRAWAL, subject=address)
        .exclude(status=WalletTransaction.Status.CONFIRMED)
        .order_by("-reported_at")[:20]
    )
    return confirmed, pending


def work_earnings(*, work) -> list[dict]:
    """What this work earned, per party and role: every sale's lines, reversals included."""
    totals: dict[tuple[str, str, str, str], int] = {}
    rows = EarningsWork.objects.filter(sold_work=work).values_list(
        "account__address", "role", "party_role", "account__currency", "amount"
    )
    for address, role, party_role, cur, amount in rows:
        key = (address, role, party_role, cur)
        totals[key] = totals.get(key, 0) + amount
    return [
        {
            "address": a,
            "role": r,
            "party_role": p,
            "role_words": role_words(r, p),
            "currency": c,
            "amount": amount,
            "amount_text": f"{units_text(amount)} {c}" if c != "ETH" else "",
        }
        for (a, r, p, c), amount in sorted(totals.items(), key=lambda kv: (kv[0][3] != "ETH", -kv[1]))
        if amount
    ]


@dataclass
class TokenEarnings:
    currency: str
    all_time: int
    lines: list
    withdrawn: int = 0


def token_earnings(*, account_ids: list[int], currency: str, limit: int = 20) -> TokenEarnings:
    """What the party earned in a stablecoin (AI fetches): the all-time total from the day
    aggregates and the newest lines (no query at all for a party with no such account)."""
    if not account_ids:
        return TokenEarnings(currency, 0, [])
    total = sum(EarningsDay.objects.filter(account_id__in=account_ids).values_list("amount", flat=True))
    address = LedgerAccount.objects.filter(pk=account_ids[0]).values_list("address", flat=True).first()
    withdrawn = wei_sum(
        JournalLine.objects.filter(
            account__address=address, account__kind=LedgerAccount.Kind.WITHDRAWN, account__currency=currency
        ),
        "amount",
    )
    return TokenEarnings(currency, total, earnings_lines(account_ids=account_ids, limit=limit), withdrawn)


def work_parties(*, work) -> set[str]:
    """Addresses with a place on any version of the work's split sheet, and the owner."""
    from royalties.models import SplitParty

    addresses = set(SplitParty.objects.filter(sheet__work=work).values_list("address", flat=True))
    addresses.add(work.creator_address)
    return addresses


def sheets_for_work(*, work):
    return list(SplitSheet.objects.filter(work=work).prefetch_related("parties").order_by("-version"))


def sheets_awaiting(*, address: str):
    """Split sheets waiting for this wallet's acceptance."""
    return list(
        SplitSheet.objects.filter(
            status=SplitSheet.Status.PROPOSED,
            parties__address=address,
            parties__accepted_at__isnull=True,
            parties__declined_at__isnull=True,
        )
        .select_related("work")
        .distinct()
    )
