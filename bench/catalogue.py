"""Catalogue throughput against 100,000 listed works, beside a trivial view, in one process.

    .venv/bin/python bench/catalogue.py [--works 100000] [--requests 300]

Seeds (once) a SQLite database under var/bench/, then serves requests through Django's full
request stack in-process (test client: middleware, sessions, templates; no sockets) and prints
JSON with requests/second and p50/p95 latency per page, and the ratio to the trivial view.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
DB = BASE / "var" / "bench" / "catalogue.sqlite3"
DB.parent.mkdir(parents=True, exist_ok=True)
os.environ["DATABASE_URL"] = f"sqlite:///{DB}"
os.environ.pop("REDIS_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402


def seed(n: int) -> float:
    from datetime import timedelta

    from django.contrib.auth import get_user_model

    from licensing.models import CatalogueEntry
    from works.models import Work

    if CatalogueEntry.objects.count() >= n:
        return 0.0
    started = time.perf_counter()
    # a database left half-seeded (a run stopped midway, or a smaller --works) is emptied with
    # plain DELETEs: the ORM's cascade would bind every work's id at once, over SQLite's limit
    with connection.cursor() as cursor:
        for model in (CatalogueEntry, Work):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
    users = [get_user_model().objects.get_or_create(username=f"bench-{i}")[0] for i in range(50)]
    presets = [
        "cc_by",
        "commercial_use",
        "commercial_remix",
        "ai_training",
        "all_rights_reserved",
        "non_commercial_remix",
    ]
    ai = {"cc_by": "free", "ai_training": "paid"}
    words = ["harbour", "fox", "heron", "street", "dawn", "portrait", "ink", "glass", "forest", "tide"]
    now = timezone.now()
    batch = 5000
    for start in range(0, n, batch):
        with transaction.atomic():
            works = []
            for i in range(start, min(n, start + batch)):
                user = users[i % len(users)]
                works.append(
                    Work(
                        owner=user,
                        creator_address=f"0x{i % 50:040x}",
                        title=f"{words[i % 10]} {i}",
                        tags=[words[(i * 7) % 10]],
                        original=f"originals/x/{i}.jpg",
                        original_name="x.jpg",
                        mime="image/jpeg",
                        width=1024,
                        height=768,
                        size=100_000,
                        preview=f"previews/x/{i}.jpg",
                        thumbnail=f"thumbnails/x/{i}.jpg",
                        sha256=f"{i:064x}",
                        pdq=f"{i:064x}",
                        pdq_quality=100,
                    )
                )
            Work.objects.bulk_create(works, batch_size=1000)
            entries = []
            for w in works:
                preset = presets[w.pk % len(presets)]
                entries.append(
                    CatalogueEntry(
                        work=w,
                        title=w.title,
                        creator_address=w.creator_address,
                        creator_name="",
                        search_text=f"{w.title} {w.creator_address} {' '.join(w.tags)}",
                        thumbnail=w.thumbnail.name,
                        min_fee_wei=(w.pk % 100) * 10**15,
                        ai_training=ai.get(preset, "prohibited"),
                        commercial=preset != "cc_by",
                        derivatives=preset in ("cc_by", "commercial_remix"),
                        presets=preset,
                        offer_count=1,
                        listed_at=now - timedelta(seconds=w.pk),
                    )
                )
            CatalogueEntry.objects.bulk_create(entries, batch_size=1000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def measure(client, url, count):
    for _ in range(10):
        assert client.get(url).status_code == 200
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
        "requests": count,
        "requests_per_second": round(count / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(latencies[int(0.95 * len(latencies)) - 1], 2),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--works", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    seeded = seed(args.works)
    from licensing.selectors import PAGE_SIZE

    client = Client()
    deep = args.works // PAGE_SIZE - 5
    trivial = measure(client, "/healthz", args.requests)
    pages = [
        measure(client, "/catalogue", args.requests),
        measure(client, "/catalogue?ai=paid&max_price=0.05&sort=price", args.requests),
        measure(client, f"/catalogue?page={deep}", args.requests),
        measure(client, "/catalogue?q=heron&page=3", args.requests),
    ]
    for page in pages:
        page["ratio_to_trivial"] = round(page["requests_per_second"] / trivial["requests_per_second"], 3)
    print(
        json.dumps(
            {
                "benchmark": "catalogue",
                "database": f"SQLite ({DB.relative_to(BASE)})",
                "works": args.works,
                "page_size": PAGE_SIZE,
                "seed_seconds": round(seeded, 1),
                "trivial_view": trivial,
                "catalogue": pages,
                "worst_p95_ms": max(p["p95_ms"] for p in pages),
                "min_ratio": min(p["ratio_to_trivial"] for p in pages),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
