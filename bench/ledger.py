"""Ledger throughput and the earnings page under load.

    .venv/bin/python bench/ledger.py [--lines 1000000] [--payees 10000] [--earning-lines 100000]

1. Posting: 1,000,000 settlement lines spread over 10,000 payees (100 settlements of 10,000
   allocations each, plus each one's buyer leg), set-based through `royalties.ledger
   .ledger_post_many`, into a fresh SQLite database under var/bench/, and, when DATABASE_URL
   points at PostgreSQL, into a fresh `<name>_bench` database there (COPY + the balance trigger).
2. The earnings page for a payee with 100,000 lines (SQLite), through Django's whole request
   stack in-process (test client), beside a trivial view (/healthz) in the same run.

Prints JSON with at least
    {"ledger_lines_per_s": {"sqlite": N, "postgresql": N|null},
     "earnings": {"rps": N, "p95_ms": N, "trivial_rps": N}}.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import floors  # bench/floors: the floor of each figure, run beside it

BASE = Path(__file__).resolve().parent.parent
BENCH = BASE / "var" / "bench"


def _setup(database_url: str):
    sys.path.insert(0, str(BASE))
    os.environ["DATABASE_URL"] = database_url
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def post_lines(lines: int, payees: int) -> dict:
    """Child process: post `lines` settlement lines; report lines per second."""
    from datetime import UTC, datetime, timedelta

    from royalties.ledger import EntrySpec, Leg, ledger_post_many
    from royalties.models import LedgerAccount

    Kind = LedgerAccount.Kind
    addresses = [f"0x{i + 1:040x}" for i in range(payees)]
    per_entry = payees
    entries = max(1, lines // per_entry)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    specs = []
    for e in range(entries):
        legs = [
            Leg(
                Kind.ALLOCATED,
                addresses[i],
                10**15 + e * 1000 + i,
                earning=True,
                meta={"role": "creator", "reference": f"bench:{e}:{i}", "counterparty": "0x" + "b" * 40},
            )
            for i in range(per_entry)
        ]
        total = sum(leg.amount for leg in legs)
        legs.append(Leg(Kind.BUYER_PAID, "0x" + "b" * 40, -total))
        specs.append(
            EntrySpec(key=f"bench:{e}", kind="settlement", occurred_at=start + timedelta(hours=e), legs=legs)
        )
    # Accounts exist before the clock starts (a live ledger has its payees' accounts already).
    from royalties.ledger import accounts_for

    accounts_for(
        {(Kind.ALLOCATED, a, "ETH") for a in addresses} | {(Kind.BUYER_PAID, "0x" + "b" * 40, "ETH")}
    )
    posted_lines = sum(len(s.legs) for s in specs)
    started = time.perf_counter()
    for i in range(0, len(specs), 10):  # ten settlements (100,000 lines) per transaction
        ledger_post_many(specs[i : i + 10])
    elapsed = time.perf_counter() - started
    from royalties.ledger import entries_unbalanced

    assert entries_unbalanced() == []
    return {"lines": posted_lines, "seconds": round(elapsed, 2), "lines_per_s": round(posted_lines / elapsed)}


def seed_earnings(n: int, address: str) -> None:
    from datetime import UTC, datetime, timedelta

    from royalties.ledger import EntrySpec, Leg, ledger_post_many
    from royalties.models import JournalEntry, LedgerAccount

    if JournalEntry.objects.filter(key__startswith="earn:").count() >= n:
        return
    Kind = LedgerAccount.Kind
    start = datetime(2025, 11, 1, tzinfo=UTC)
    specs = [
        EntrySpec(
            key=f"earn:{i}",
            kind="sale",
            occurred_at=start + timedelta(minutes=5 * i),
            legs=[
                Leg(Kind.BUYER_PAID, "0x" + "c" * 40, -(10**15 + i)),
                Leg(
                    Kind.CREDITED,
                    address,
                    10**15 + i,
                    earning=True,
                    meta={"role": "creator", "gross": 2 * 10**15, "counterparty": "0x" + "c" * 40, "uses": 1},
                ),
            ],
        )
        for i in range(n)
    ]
    for i in range(0, n, 20_000):
        ledger_post_many(specs[i : i + 20_000])


def measure(client, url, count):
    for _ in range(10):
        assert client.get(url).status_code == 200, url
    latencies = []
    started = time.perf_counter()
    for _ in range(count):
        t0 = time.perf_counter()
        response = client.get(url)
        latencies.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, url
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "url": url,
        "rps": round(count / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(latencies[int(0.95 * len(latencies)) - 1], 2),
    }


def earnings(n: int, requests: int) -> dict:
    from allauth.socialaccount.models import SocialAccount
    from django.contrib.auth import get_user_model
    from django.test import Client

    address = "0x" + "e" * 40
    user, _ = get_user_model().objects.get_or_create(username=address)
    SocialAccount.objects.get_or_create(user=user, provider="ethereum", uid=address)
    seeded = time.perf_counter()
    seed_earnings(n, address)
    seeded = time.perf_counter() - seeded
    client = Client()
    client.force_login(user)
    trivial = measure(client, "/healthz", requests)
    first = measure(client, "/earnings/", requests)
    from royalties.models import JournalLine
    from royalties.views import _cursor_text

    deep_line = JournalLine.objects.filter(account__address=address, earning=True).order_by(
        "-occurred_at", "-pk"
    )[n // 2]
    deep_cursor = _cursor_text(deep_line)  # half-way back through the lines
    deep = measure(client, f"/earnings/?before={deep_cursor}", requests)
    period = measure(client, "/earnings/?period=custom&start=2025-12-01&end=2026-01-31", requests)
    worst = max((first, deep, period), key=lambda r: r["p95_ms"])
    return {
        "lines": n,
        "seed_seconds": round(seeded, 1),
        "rps": min(first["rps"], deep["rps"], period["rps"]),
        "p95_ms": worst["p95_ms"],
        "trivial_rps": trivial["rps"],
        "pages": [first, deep, period],
    }


def child(args):
    _setup(args.database_url)
    if args.task == "post":
        print(json.dumps(post_lines(args.lines, args.payees)))
    else:
        print(json.dumps(earnings(args.earning_lines, args.requests)))


def _run(task, database_url, args) -> dict:
    command = [
        sys.executable,
        __file__,
        "--child",
        task,
        "--database-url",
        database_url,
        "--lines",
        str(args.lines),
        "--payees",
        str(args.payees),
        "--earning-lines",
        str(args.earning_lines),
        "--requests",
        str(args.requests),
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=False, cwd=BASE)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fresh_postgres(url: str) -> str | None:
    if not url.startswith(("postgres://", "postgresql://")):
        return None
    import psycopg

    base, name = url.rsplit("/", 1)
    bench_name = f"{name.split('?')[0]}_bench"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{bench_name}"')
        conn.execute(f'CREATE DATABASE "{bench_name}"')
    return f"{base}/{bench_name}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--payees", type=int, default=10_000)
    parser.add_argument("--earning-lines", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--child", choices=["post", "earnings"])
    parser.add_argument("--database-url")
    args = parser.parse_args()
    if args.child:
        args.task = args.child
        return child(args)

    BENCH.mkdir(parents=True, exist_ok=True)
    post_db = BENCH / "ledger-post.sqlite3"
    post_db.unlink(missing_ok=True)
    sqlite = _run("post", f"sqlite:///{post_db}", args)
    pg_url = _fresh_postgres(os.environ.get("DATABASE_URL", ""))
    postgresql = _run("post", pg_url, args) if pg_url else None
    page = _run("earnings", f"sqlite:///{BENCH / 'ledger-earnings.sqlite3'}", args)
    floor_rows_per_s = floors.floor("ledger")[0]  # plain multi-row INSERTs, same machine, same run
    print(
        json.dumps(
            {
                "benchmark": "ledger",
                "ledger_lines_per_s": {
                    "sqlite": sqlite["lines_per_s"],
                    "postgresql": postgresql["lines_per_s"] if postgresql else None,
                },
                "floor": {"ledger_lines_per_s": round(floor_rows_per_s)},
                "ratio": {"ledger_lines_per_s": round(sqlite["lines_per_s"] / floor_rows_per_s, 3)},
                "posting": {"sqlite": sqlite, "postgresql": postgresql},
                "earnings": page,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
