"""Manifest checks against a registry of 1,000,000 public works.

    .venv/bin/python bench/manifest_check.py [--works 1000000] [--items 10000] [--requests 20]

Seeds (once) a SQLite database under var/bench/ with 1,000,000 registered, listed works (half
of them paid for AI training, a quarter free, a quarter prohibited) and their fingerprints in the
faiss index, then sends 10,000-item manifests to POST /api/v1/manifest-checks through Django's
whole request stack in-process (test client: middleware, key authentication, rate limit,
pydantic validation, the check, the stored result). Half of each manifest's items match (PDQ:
the known half as edited copies, 0-31 bits away; `pdq_recall_vs_exact` says how many of them the
check finds compared with the exact scan, on the same items).
Prints JSON with at least
    {"sha256_items_per_s": N, "pdq_items_per_s": N, "pdq_recall_vs_exact": N, "p95_ms_10k_sha256": N}.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

import floors  # bench/floors: the floor of each figure, run beside it

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
DB = BASE / "var" / "bench" / "manifest.sqlite3"
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

PRESETS = ["ai_training", "ai_training", "cc_by", "commercial_use"]
AI = {"ai_training": "paid", "cc_by": "free", "commercial_use": "prohibited"}


def sha(i: int) -> str:
    return f"{i * 2654435761 % 2**64:016x}" * 4


def pdq(i: int) -> str:
    return random.Random(i).getrandbits(256).to_bytes(32, "big").hex()


def seed(n: int) -> float:
    from django.contrib.auth import get_user_model

    from licensing.models import CatalogueEntry
    from works.models import FingerprintChange, Registration, Work

    if Registration.objects.count() >= n:
        return 0.0
    started = time.perf_counter()
    FingerprintChange.objects.all().delete()
    CatalogueEntry.objects.all().delete()
    Registration.objects.all().delete()
    Work.objects.all().delete()
    users = [get_user_model().objects.get_or_create(username=f"bench-{i}")[0] for i in range(100)]
    now = timezone.now()
    batch = 10_000
    for start in range(0, n, batch):
        with transaction.atomic():
            works = [
                Work(
                    owner=users[i % 100],
                    creator_address=f"0x{i % 100 + 1:040x}",
                    title=f"work {i}",
                    original=f"originals/x/{i}.jpg",
                    original_name="x.jpg",
                    mime="image/jpeg",
                    width=1024,
                    height=768,
                    size=100_000,
                    preview=f"previews/x/{i}.jpg",
                    thumbnail=f"thumbnails/x/{i}.jpg",
                    sha256=sha(i),
                    pdq=pdq(i),
                    pdq_quality=100,
                )
                for i in range(start, min(n, start + batch))
            ]
            Work.objects.bulk_create(works, batch_size=2000)
            Registration.objects.bulk_create(
                [Registration(work=w, status="confirmed", timestamp=0, signature="0x") for w in works],
                batch_size=2000,
            )
            CatalogueEntry.objects.bulk_create(
                [
                    CatalogueEntry(
                        work=w,
                        title=w.title,
                        creator_address=w.creator_address,
                        creator_name="",
                        search_text=w.title,
                        thumbnail=w.thumbnail.name,
                        min_fee_wei=10**16,
                        ai_training=AI[PRESETS[w.pk % 4]],
                        ai_price_wei=5 * 10**15 if PRESETS[w.pk % 4] == "ai_training" else 0,
                        genai_training=AI[PRESETS[w.pk % 4]],
                        genai_price_wei=10**16 if PRESETS[w.pk % 4] == "ai_training" else 0,
                        commercial=True,
                        derivatives=False,
                        presets=PRESETS[w.pk % 4],
                        offer_count=1,
                        listed_at=now,
                    )
                    for w in works
                ],
                batch_size=2000,
            )
            FingerprintChange.objects.bulk_create(
                [FingerprintChange(work=w, pdq=w.pdq, added=True) for w in works], batch_size=2000
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def key() -> str:
    from django.contrib.auth import get_user_model

    from orgs import services
    from orgs.models import Organisation

    user = get_user_model()
    admin, _ = user.objects.get_or_create(username="0x" + "a" * 40)
    org = Organisation.objects.filter(name="Bench AI").first() or services.org_create(
        name="Bench AI", user=admin, wallet_address="0x" + "A" * 40
    )
    return services.api_key_create(org=org, by=admin, name="bench", scopes=["read"], rate_per_minute=10**6)[1]


def edited_pdq(i: int, rng) -> str:
    """A registered work's PDQ hash as an edited copy's would be: 0 to 31 of its bits flipped
    (uniformly; real copies are mostly nearer, so this is the harder case)."""
    value = int(pdq(i), 16)
    for bit in rng.sample(range(256), rng.randrange(32)):
        value ^= 1 << bit
    return value.to_bytes(32, "big").hex()


def manifests(kind: str, works: int, items: int, count: int):
    rng = random.Random(kind)
    for _ in range(count):
        rows = []
        for n in range(items):
            i = rng.randrange(works) if n % 2 == 0 else works + rng.randrange(10**9)  # half unknown
            # PDQ: the known half as edited copies, the other half random
            value = sha(i) if kind == "sha256" else edited_pdq(i, rng) if i < works else pdq(i)
            rows.append({"ref": f"row-{n}", kind: value})
        yield rows


def pdq_recall(works: int, items: int) -> dict:
    """The manifest check's PDQ search against the exact scan, on the same 10k items: the share of
    items with a work within the threshold whose nearest work the check finds too, and the exact
    scan's own speed."""
    from works.fingerprint_index import fingerprint_index

    index = fingerprint_index()
    radius = django.conf.settings.WORKS_PDQ_THRESHOLD
    hashes = [row["pdq"] for row in next(manifests("pdq", works, items, 1))]
    t0 = time.perf_counter()
    exact = index.search_many(hashes, radius=radius, exact=True)
    exact_s = time.perf_counter() - t0
    fast = index.search_many(hashes, radius=radius)
    wanted = [h for h in hashes if exact[h]]
    found = sum(exact[h][0][0] in {w for w, _ in fast[h]} for h in wanted)
    spurious = sum(bool(fast[h]) for h in hashes if not exact[h])
    return {
        "recall_vs_exact": round(found / len(wanted), 4) if wanted else None,
        "items_with_a_match": len(wanted),
        "matches_exact_did_not_find": spurious,
        "exact_scan_items_per_s": round(len(hashes) / exact_s),
    }


def measure(client, secret, kind, works, items, count) -> dict:
    latencies, matched = [], 0
    for rows in manifests(kind, works, items, count + 1):
        body = json.dumps({"items": rows})
        t0 = time.perf_counter()
        response = client.post(
            "/api/v1/manifest-checks",
            data=body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
        )
        elapsed = (time.perf_counter() - t0) * 1000
        assert response.status_code == 200, response.content[:300]
        latencies.append(elapsed)
        matched += response.json()["matched"]
    latencies = latencies[1:]  # the first request warms caches (and, for PDQ, loads the index)
    latencies.sort()
    mean = statistics.mean(latencies)
    return {
        "requests": len(latencies),
        "items_per_request": items,
        "items_per_s": round(items / (mean / 1000)),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(latencies[max(0, int(0.95 * len(latencies)) - 1)], 1),
        "match_rate": round(matched / (items * (len(latencies) + 1)), 3),
    }


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--works", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--pdq-requests", type=int, default=5)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    seeded = seed(args.works)
    with connection.cursor() as cursor:  # statistics for indexes a migration added since seeding
        cursor.execute("PRAGMA optimize=0x10002")
    secret = key()
    client = Client()
    from works.fingerprint_index import fingerprint_index

    t0 = time.perf_counter()
    index_size = len(fingerprint_index())
    index_load_s = time.perf_counter() - t0
    sha_result = measure(client, secret, "sha256", args.works, args.items, args.requests)
    rss_before = _rss_mb()
    t0 = time.perf_counter()
    fingerprint_index().hashed_index()  # what the first PDQ check of a process builds
    hash_build_s = time.perf_counter() - t0
    hash_mb = _rss_mb() - rss_before
    pdq_result = measure(client, secret, "pdq", args.works, args.items, args.pdq_requests)
    pdq_result["multi_index_hash"] = {"build_seconds": round(hash_build_s, 1), "memory_mb": round(hash_mb)}
    pdq_result["vs_exact"] = pdq_recall(args.works, args.items)
    connection.close()  # the floor reads the same SQLite file
    floor_items_per_s = floors.floor("manifest")[0]  # one raw SQLite query + JSON, same machine
    print(
        json.dumps(
            {
                "benchmark": "manifest_check",
                "works": args.works,
                "seed_seconds": round(seeded, 1),
                "index_works": index_size,
                "index_load_seconds": round(index_load_s, 1),
                "sha256_items_per_s": sha_result["items_per_s"],
                "pdq_items_per_s": pdq_result["items_per_s"],
                "pdq_recall_vs_exact": pdq_result["vs_exact"]["recall_vs_exact"],
                "p95_ms_10k_sha256": sha_result["p95_ms"],
                "floor": {"sha256_items_per_s": round(floor_items_per_s)},
                "ratio": {"sha256_items_per_s": round(sha_result["items_per_s"] / floor_items_per_s, 3)},
                "sha256": sha_result,
                "pdq": pdq_result,
                "pdq_threshold_bits": django.conf.settings.WORKS_PDQ_THRESHOLD,
                "cpu_cores": os.cpu_count(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
