"""Posting to the double-entry ledger. The only writer of journal entries and lines.

1. Every entry balances to zero per currency before anything is written (`UnbalancedEntry`).
2. An entry is written once per idempotency key: posting the same key again returns the entry
   already there, and a racing duplicate loses on the unique key and returns the winner's.
3. Lines and the day totals of the accounts they touch are written in the same transaction.
4. Corrections are reversing entries (`ledger_reverse`); nothing is ever updated or deleted.

`ledger_post_many` posts any number of entries set-based (multi-row INSERTs on SQLite, COPY on
PostgreSQL), for settlements with millions of lines and for the benchmark.
"""

import contextlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, connection, transaction

from core.fields import sqlite_text, wei_sum
from royalties.models import EarningsDay, EarningsWork, JournalEntry, JournalLine, LedgerAccount

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


def _add_totals(model, keys: tuple[str, ...], deltas: dict[tuple, list[int]]) -> None:
    """Add (amount, count) to each aggregate row keyed by (account, *keys): read, add in Python
    (exact on every database), write back, in the caller's transaction. Plain rows and prepared
    statements throughout: a settlement touches tens of thousands of these rows."""
    if not deltas:
        return
    if connection.vendor == "postgresql":
        _upsert_totals_postgresql(model, keys, deltas)
        return
    amount_field = model._meta.get_field("amount")
    accounts = list({key[0] for key in deltas})
    first = list({key[1] for key in deltas})
    existing: dict[tuple, tuple[int, int, int]] = {}
    for i in range(0, len(accounts), 5000):
        rows = (
            model.objects.select_for_update()
            .filter(account_id__in=accounts[i : i + 5000], **{f"{keys[0]}__in": first})
            .values_list("pk", "account_id", *keys, "amount", "lines")
        )
        for pk, account, *rest in rows:
            *key_values, amount, lines = rest
            existing[(account, *key_values)] = (pk, amount, lines)
    fresh, changed = [], []
    for key, (amount, count) in deltas.items():
        row = existing.get(key)
        if row is None:
            fresh.append((*key, amount_field.get_db_prep_value(amount, connection), count))
        else:
            changed.append(
                (amount_field.get_db_prep_value(row[1] + amount, connection), row[2] + count, row[0])
            )
    table = model._meta.db_table
    columns = ", ".join(["account_id", *[model._meta.get_field(k).column for k in keys], "amount", "lines"])
    marks = ", ".join(["%s"] * (len(keys) + 3))
    with connection.cursor() as cursor:
        if fresh:
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", fresh)  # noqa: S608
        if changed:
            cursor.executemany(f"UPDATE {table} SET amount = %s, lines = %s WHERE id = %s", changed)  # noqa: S608


_LINE_COLUMNS = [
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


_PG_TYPES = {"day": "date", "sold_work_id": "bigint", "role": "text", "party_role": "text"}


def _upsert_totals_postgresql(model, keys: tuple[str, ...], deltas: dict[tuple, list[int]]) -> None:
    """One INSERT … ON CONFLICT DO UPDATE over unnested arrays: PostgreSQL adds the numerics
    exactly, in one statement, whatever the number of rows."""
    table = model._meta.db_table
    columns = ["account_id", *[model._meta.get_field(k).column for k in keys]]
    arrays = [[key[i] for key in deltas] for i in range(len(columns))]
    amounts = [str(total[0]) for total in deltas.values()]
    counts = [total[1] for total in deltas.values()]
    casts = ["bigint", *[_PG_TYPES[k] for k in keys]]
    unnest = ", ".join(f"%s::{cast}[]" for cast in casts)
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}, amount, lines) "  # noqa: S608 - fixed names
        f"SELECT * FROM unnest({unnest}, %s::numeric[], %s::int[]) "
        f"ON CONFLICT ({', '.join(columns)}) DO UPDATE "
        f"SET amount = {table}.amount + EXCLUDED.amount, lines = {table}.lines + EXCLUDED.lines"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*arrays, amounts, counts])


def ledger_post_many(specs: list[EntrySpec]) -> int:
    """Post entries set-based in one transaction; entries whose key exists are skipped.
    Returns how many entries were written.

    Lines go in as plain rows (no model instances): one multi-row INSERT per batch on SQLite,
    COPY on PostgreSQL. All lines of an entry are in one statement (the PostgreSQL balance
    trigger checks each statement)."""
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
        works: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        batches: list[list[tuple]] = [[]]
        for spec, entry in zip(specs, entries, strict=True):
            if len(batches[-1]) >= BATCH:
                batches.append([])  # a new statement only between entries, never inside one
            day = spec.occurred_at.date()
            rows = batches[-1]
            for leg in spec.legs:
                account = account_ids[(leg.kind, leg.address, leg.currency)]
                amount = int(leg.amount)
                meta = leg.meta
                role, party_role, sold_work = (
                    meta.get("role", ""),
                    meta.get("party_role", ""),
                    meta.get("sold_work_id"),
                )
                gross = meta.get("gross")
                rows.append(
                    (
                        entry.pk,
                        account,
                        amount,
                        leg.currency,
                        spec.occurred_at,
                        leg.earning,
                        role,
                        party_role,
                        meta.get("bps"),
                        meta.get("work_id"),
                        sold_work,
                        None if gross is None else int(gross),
                        meta.get("counterparty", ""),
                        meta.get("uses"),
                        meta.get("reference", ""),
                    )
                )
                if leg.earning:
                    step = 1 if amount > 0 else -1
                    total = days[(account, day)]
                    total[0] += amount
                    total[1] += step
                    if sold_work is not None:
                        by_work = works[(account, sold_work, role, party_role)]
                        by_work[0] += amount
                        by_work[1] += step
        for rows in batches:
            _insert_lines(rows)
        _add_totals(EarningsDay, ("day",), days)
        _add_totals(EarningsWork, ("sold_work_id", "role", "party_role"), works)
    return len(specs)


def _insert_lines(rows: list[tuple]) -> None:
    if not rows:
        return
    table = JournalLine._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            copy_sql = f"COPY {table} ({', '.join(_LINE_COLUMNS)}) FROM STDIN"  # noqa: S608 - fixed names
            with cursor.cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
            return
        adapt_time = connection.ops.adapt_datetimefield_value
        times = {at: adapt_time(at) for at in {r[4] for r in rows}}  # once per entry, not per line
        width = len(_LINE_COLUMNS)
        per_statement = max(1, 30_000 // width)  # stay under SQLite's bound-parameter limit
        placeholders = "(" + ",".join(["?"] * width) + ")"
        insert = f"INSERT INTO {table} ({', '.join(_LINE_COLUMNS)}) VALUES "  # noqa: S608 - fixed names
        statement = insert + ",".join([placeholders] * per_statement)
        raw = connection.connection  # the DB-API connection: no placeholder rewriting per call
        for i in range(0, len(rows), per_statement):
            chunk = rows[i : i + per_statement]
            params = []
            for r in chunk:
                params += (
                    r[0],
                    r[1],
                    sqlite_text(r[2]),
                    r[3],
                    times[r[4]],
                    r[5],
                    r[6],
                    r[7],
                    r[8],
                    r[9],
                    r[10],
                    None if r[11] is None else sqlite_text(r[11]),
                    r[12],
                    r[13],
                    r[14],
                )
            sql = statement if len(chunk) == per_statement else insert + ",".join([placeholders] * len(chunk))
            raw.execute(sql, params)


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
    """Recompute every day and work total from the lines (derived data; repairs and tests)."""
    days: dict[tuple[int, object], list[int]] = defaultdict(lambda: [0, 0])
    works: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    lines = JournalLine.objects.filter(earning=True).values_list(
        "account_id", "occurred_at", "sold_work_id", "amount"
    )
    for account, occurred_at, sold_work, amount in lines.iterator():
        step = 1 if amount > 0 else -1
        for table, key in ((days, (account, occurred_at.date())), (works, (account, sold_work))):
            if key[1] is None:
                continue
            table[key][0] += amount
            table[key][1] += step
    with transaction.atomic():
        EarningsDay.objects.all().delete()
        EarningsWork.objects.all().delete()
        EarningsDay.objects.bulk_create(
            [EarningsDay(account_id=a, day=d, amount=t[0], lines=t[1]) for (a, d), t in days.items()],
            batch_size=BATCH,
        )
        EarningsWork.objects.bulk_create(
            [
                EarningsWork(account_id=a, sold_work_id=w, amount=t[0], lines=t[1])
                for (a, w), t in works.items()
            ],
            batch_size=BATCH,
        )
    return len(days)
