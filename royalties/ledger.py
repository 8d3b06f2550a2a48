"""Posting to the double-entry ledger. The only writer of journal entries and lines.

1. Every entry balances to zero per currency before anything is written (`UnbalancedEntry`).
2. An entry is written once per idempotency key: posting the same key again returns the entry
   already there, and a racing duplicate loses on the unique key and returns the winner's.
3. Lines and the day totals of the accounts they touch are written in the same transaction.
4. Corrections are reversing entries (`ledger_reverse`); nothing is ever updated or deleted.

`ledger_post_many` posts any number of entries set-based (one INSERT per table, COPY-sized
batches), for settlements with millions of lines and for the benchmark.
"""

import contextlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, connection, transaction

from portal.fields import wei_sum
from royalties.models import EarningsDay, JournalEntry, JournalLine, LedgerAccount

Kind = LedgerAccount.Kind
ERR_UNBALANCED = "entry {key} does not balance: {totals}"
BATCH = 20_000


class UnbalancedEntry(ValueError):
    pass


@dataclass
class Leg:
    kind: str
    address: str
    amount: int
    earning: bool = False
    currency: str = "ETH"
    meta: dict = field(default_factory=dict)  # role, party_role, bps, work_id, sold_work_id, gross, ...


@dataclass
class EntrySpec:
    key: str
    kind: str
    occurred_at: datetime
    legs: list[Leg]
    chain_event_id: int | None = None
    tx_hash: str = ""
    memo: str = ""
    reverses_id: int | None = None


def _check_balanced(spec: EntrySpec) -> None:
    totals: dict[str, int] = defaultdict(int)
    for leg in spec.legs:
        totals[leg.currency] += int(leg.amount)
    if any(totals.values()) or not spec.legs:
        raise UnbalancedEntry(ERR_UNBALANCED.format(key=spec.key, totals=dict(totals)))


def accounts_for(keys: set[tuple[str, str, str]]) -> dict[tuple[str, str, str], int]:
    """Account ids for (kind, address, currency), creating the missing ones."""
    found: dict[tuple[str, str, str], int] = {}
    by_kind: dict[str, set[str]] = defaultdict(set)
    for kind, address, _currency in keys:
        by_kind[kind].add(address)
    for kind, addresses in by_kind.items():
        addresses = list(addresses)
        for i in range(0, len(addresses), 5000):
            for pk, k, a, c in LedgerAccount.objects.filter(
                kind=kind, address__in=addresses[i : i + 5000]
            ).values_list("pk", "kind", "address", "currency"):
                found[(k, a, c)] = pk
    missing = [key for key in keys if key not in found]
    if missing:
        LedgerAccount.objects.bulk_create(
            [LedgerAccount(kind=k, address=a, currency=c) for k, a, c in missing], ignore_conflicts=True
        )
        return accounts_for(keys)
    return found


def _add_days(deltas: dict[tuple[int, object], list[int]]) -> None:
    """Add (amount, count) to each (account, day) total: read, add in Python (exact on every
    database), write back, in the caller's transaction."""
    if not deltas:
        return
    accounts = {account for account, _ in deltas}
    days = {day for _, day in deltas}
    existing = {
        (row.account_id, row.day): row
        for row in EarningsDay.objects.select_for_update().filter(account_id__in=accounts, day__in=days)
    }
    fresh, changed = [], []
    for (account, day), (amount, count) in deltas.items():
        row = existing.get((account, day))
        if row is None:
            fresh.append(EarningsDay(account_id=account, day=day, amount=amount, lines=count))
        else:
            row.amount += amount
            row.lines += count
            changed.append(row)
    EarningsDay.objects.bulk_create(fresh, batch_size=BATCH)
    EarningsDay.objects.bulk_update(changed, ["amount", "lines"], batch_size=BATCH)


def ledger_post_many(specs: list[EntrySpec]) -> int:
    """Post entries set-based in one transaction; entries whose key exists are skipped.
    Returns how many entries were written."""
    for spec in specs:
        _check_balanced(spec)
    with transaction.atomic():
        keys = [s.key for s in specs]
        taken = set()
        for i in range(0, len(keys), 5000):
            taken.update(
                JournalEntry.objects.filter(key__in=keys[i : i + 5000]).values_list("key", flat=True)
            )
        specs = [s for s in specs if s.key not in taken]
        if not specs:
            return 0
        account_ids = accounts_for({(leg.kind, leg.address, leg.currency) for s in specs for leg in s.legs})
        entries = JournalEntry.objects.bulk_create(
            [
                JournalEntry(
                    key=s.key,
                    kind=s.kind,
                    occurred_at=s.occurred_at,
                    chain_event_id=s.chain_event_id,
                    tx_hash=s.tx_hash,
                    memo=s.memo[:200],
                    reverses_id=s.reverses_id,
                )
                for s in specs
            ],
            batch_size=BATCH,
        )
        if not all(e.pk for e in entries):  # backends without RETURNING ids on bulk insert
            ids = dict(JournalEntry.objects.filter(key__in=[s.key for s in specs]).values_list("key", "pk"))
            for e in entries:
                e.pk = ids[e.key]
        days: dict[tuple[int, object], list[int]] = defaultdict(lambda: [0, 0])
        lines = []
        for spec, entry in zip(specs, entries, strict=True):
            for leg in spec.legs:
                account = account_ids[(leg.kind, leg.address, leg.currency)]
                lines.append(
                    JournalLine(
                        entry_id=entry.pk,
                        account_id=account,
                        amount=int(leg.amount),
                        currency=leg.currency,
                        occurred_at=spec.occurred_at,
                        earning=leg.earning,
                        **leg.meta,
                    )
                )
                if leg.earning:
                    total = days[(account, spec.occurred_at.date())]
                    total[0] += int(leg.amount)
                    total[1] += 1 if int(leg.amount) > 0 else -1
        _insert_lines(lines)
        _add_days(days)
    return len(specs)


def _insert_lines(lines: list[JournalLine]) -> None:
    """One INSERT per batch; PostgreSQL gets COPY, which the balance trigger checks per statement."""
    if connection.vendor == "postgresql" and len(lines) > 1000:
        _copy_lines(lines)
        return
    JournalLine.objects.bulk_create(lines, batch_size=BATCH)


_COPY_COLUMNS = [
    "entry_id",
    "account_id",
    "amount",
    "currency",
    "occurred_at",
    "earning",
    "role",
    "party_role",
    "bps",
    "work_id",
    "sold_work_id",
    "gross",
    "counterparty",
    "uses",
    "reference",
]


def _copy_lines(lines: list[JournalLine]) -> None:
    table = JournalLine._meta.db_table
    with connection.cursor() as cursor:
        copy_sql = f"COPY {table} ({', '.join(_COPY_COLUMNS)}) FROM STDIN"  # noqa: S608 - fixed names
        with cursor.cursor.copy(copy_sql) as copy:
            for line in lines:
                copy.write_row(
                    (
                        line.entry_id,
                        line.account_id,
                        int(line.amount),
                        line.currency,
                        line.occurred_at,
                        line.earning,
                        line.role,
                        line.party_role,
                        line.bps,
                        line.work_id,
                        line.sold_work_id,
                        None if line.gross is None else int(line.gross),
                        line.counterparty,
                        line.uses,
                        line.reference,
                    )
                )


def ledger_post(spec: EntrySpec) -> JournalEntry:
    """Post one entry (idempotent on its key); returns it, whoever wrote it."""
    # A concurrent post of the same key loses on the unique constraint: the winner's entry is the one.
    with contextlib.suppress(IntegrityError):
        ledger_post_many([spec])
    return JournalEntry.objects.get(key=spec.key)


def ledger_reverse(*, entry: JournalEntry, occurred_at: datetime, memo: str = "") -> JournalEntry | None:
    """Post the entry's mirror image (every leg negated). Once: the key says so."""
    legs = [
        Leg(
            kind=line.account.kind,
            address=line.account.address,
            currency=line.currency,
            amount=-int(line.amount),
            earning=line.earning,
            meta={
                "role": line.role,
                "party_role": line.party_role,
                "bps": line.bps,
                "work_id": line.work_id,
                "sold_work_id": line.sold_work_id,
                "gross": line.gross,
                "counterparty": line.counterparty,
                "uses": line.uses,
                "reference": line.reference,
            },
        )
        for line in entry.lines.select_related("account").order_by("pk")
    ]
    return ledger_post(
        EntrySpec(
            key=f"{entry.key}:reversal",
            kind=JournalEntry.Kind.REVERSAL,
            occurred_at=occurred_at,
            legs=legs,
            chain_event_id=entry.chain_event_id,
            tx_hash=entry.tx_hash,
            memo=memo or f"reverses {entry.key}",
            reverses_id=entry.pk,
        )
    )


def balance(*, kind: str, address: str, currency: str = "ETH") -> int:
    return wei_sum(
        JournalLine.objects.filter(account__kind=kind, account__address=address, currency=currency), "amount"
    )


def entries_unbalanced() -> list[str]:
    """Keys of entries whose lines do not sum to zero per currency (should always be empty)."""
    totals: dict[tuple[int, str], int] = defaultdict(int)
    for entry_id, currency, amount in JournalLine.objects.values_list(
        "entry_id", "currency", "amount"
    ).iterator():
        totals[(entry_id, currency)] += amount
    bad = {entry_id for (entry_id, _), total in totals.items() if total}
    return list(JournalEntry.objects.filter(pk__in=bad).values_list("key", flat=True))


def earnings_days_rebuild() -> int:
    """Recompute every day total from the lines (derived data; for repairs and tests)."""
    days: dict[tuple[int, object], list[int]] = defaultdict(lambda: [0, 0])
    for account, occurred_at, amount in (
        JournalLine.objects.filter(earning=True).values_list("account_id", "occurred_at", "amount").iterator()
    ):
        total = days[(account, occurred_at.date())]
        total[0] += amount
        total[1] += 1 if amount > 0 else -1
    with transaction.atomic():
        EarningsDay.objects.all().delete()
        EarningsDay.objects.bulk_create(
            [EarningsDay(account_id=a, day=d, amount=t[0], lines=t[1]) for (a, d), t in days.items()],
            batch_size=BATCH,
        )
    return len(days)
