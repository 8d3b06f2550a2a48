"""Dataset audit benchmarks. Generates its own data under var/bench/audit/ (kept between runs).

    .venv/bin/python bench/audit.py [--rows 12800000] [--works 100000] [--shard-images 300]
                                    [--quality-only | --manifest-only]

1. manifest: a CommonPool-shaped parquet of 12.8M rows (uid, url, text, sizes, CLIP scores,
   face_bboxes, sha256; 1M-row row groups) with planted sha256 and URL matches, scanned row group
   part by part exactly as the audit does (`audits.parts.parquet_part`: DuckDB reads the three
   columns of up to AUDIT_PART_ROWS rows straight from the file and joins them with the registry
   snapshot of 100,000 works in one pass), in a child process so its peak RSS is the scan's own.
2. shards: 1024x768 JPEGs, decode + sha256 + the matcher's query (8 dihedral PDQ hashes, the
   trimmed picture's and the windows': what every shard image costs), on one core.
3. quality, on real photographs (tests/fixtures/photos.py: Debian's plasma, MATE and GNOME
   wallpapers and scikit-image's pictures; `make photos` installs the packages): every original
   registered through the upload service, each edited every way in `EDITS` (crops from a side and
   to the centre, caption bars, screenshots, blurred padding, text, watermark, mirror, rotation,
   rescaling, recompression, colour, brightness), and the look-alikes (another frame of the scene,
   the other end of a panorama, pictures of the same collection) under five edits, through one
   `audits.parts.shard_part` on one core: recall per edit and overall, precision, copies reported
   per look-alike category, the whole part's images/s/core (the ORB check included) and the index
   entries and bytes per work.

Prints JSON with at least
    {"manifest": {"rows": N, "seconds": N, "peak_rss_mb": N},
     "shards": {"images_per_s_per_core": N, "whole_shard_images_per_s_per_core": N},
     "quality": {"recall": N, "precision": N, "recall_by_edit": {...}, "false_by_category": {...}}}.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import floors  # bench/floors: the floor of each figure, run beside it

BASE = Path(__file__).resolve().parent.parent
BENCH = BASE / "var" / "bench" / "audit"
sys.path.insert(0, str(BASE))


def _django():
    BENCH.mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{BENCH / 'registry.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(BENCH / "media")
    os.environ["PRIVATE_MEDIA_ROOT"] = str(BENCH / "private")
    os.environ["AUDIT_ROOT"] = str(BENCH / "audits")
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# ------------------------------------------------------------------ registry


def seed_registry(works: int) -> dict:
    """`works` registered works as rows (digests, portal paths, 10 % with a declared publication),
    and 100 real uploads for the quality set. Returns what the manifest can plant."""
    import hashlib

    from django.contrib.auth import get_user_model
    from django.db import transaction

    from works.models import Registration, Work, WorkDigest, WorkPublication

    have = Work.objects.filter(title__startswith="bench ").count()
    user, _ = get_user_model().objects.get_or_create(username="0x" + "b" * 40)
    if have < works:
        batch = 10_000
        for start in range(have, works, batch):
            with transaction.atomic():
                rows = [
                    Work(
                        owner=user,
                        creator_address=f"0x{i % 500 + 1:040x}",
                        title=f"bench {i}",
                        original=f"originals/b/{i}.jpg",
                        original_name="b.jpg",
                        mime="image/jpeg",
                        width=1024,
                        height=768,
                        size=100_000,
                        preview=f"previews/b/{i}.jpg",
                        thumbnail=f"thumbnails/b/{i}.jpg",
                        sha256=hashlib.sha256(f"orig{i}".encode()).hexdigest(),
                        pdq=hashlib.sha256(f"pdq{i}".encode()).hexdigest(),
                        pdq_quality=100,
                    )
                    for i in range(start, min(works, start + batch))
                ]
                Work.objects.bulk_create(rows, batch_size=2000)
                Registration.objects.bulk_create(
                    [Registration(work=w, status="confirmed", timestamp=0, signature="0x") for w in rows],
                    batch_size=2000,
                )
                digests = []
                for w in rows:
                    digests.append(WorkDigest(work=w, sha256=w.sha256, kind="original"))
                    digests.append(
                        WorkDigest(
                            work=w, sha256=hashlib.sha256(f"prev{w.pk}".encode()).hexdigest(), kind="preview"
                        )
                    )
                WorkDigest.objects.bulk_create(digests, batch_size=2000)
                WorkPublication.objects.bulk_create(
                    [
                        WorkPublication(
                            work=w,
                            url=f"https://artist{w.pk % 997}.example/p/{w.pk}",
                            key=f"artist{w.pk % 997}.example/p/{w.pk}",
                        )
                        for w in rows
                        if w.pk % 10 == 0
                    ],
                    batch_size=2000,
                )
    sample = list(
        Work.objects.filter(title__startswith="bench ").order_by("pk").values_list("pk", "sha256")[:5000]
    )
    return {"shas": [s for _, s in sample[:2500]], "pages": [pk for pk, _ in sample[2500:]]}


# ------------------------------------------------------------------ manifest


def _hex_strings(n: int, width: int, rng):
    import numpy as np
    import pyarrow as pa

    raw = rng.integers(0, 16, size=n * width, dtype=np.uint8)
    chars = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)[raw]
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(chars.tobytes())])


def write_manifest(path: Path, rows: int, plant: dict) -> int:
    """A CommonPool-shaped parquet; returns how many rows were planted to match."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from audits.synthetic import COMMONPOOL_COLUMNS

    marker = path.with_suffix(".planted")
    if path.exists() and marker.exists():
        return int(marker.read_text())
    rng = np.random.default_rng(12)
    group = 1_000_000
    planted = 0
    writer = None
    for start in range(0, rows, group):
        n = min(group, rows - start)
        uid = _hex_strings(n, 32, rng)
        sha = _hex_strings(n, 64, rng)
        ids = pa.array(np.arange(start, start + n).astype(str))
        url = pc.binary_join_element_wise(
            "https://img",
            pa.array((np.arange(n) % 5000).astype(str)),
            ".example.com/photos/",
            ids,
            ".jpg",
            "",
        )
        # plant: every 10,000th row a registered sha256, every 10,000th (offset) a registered URL
        sha_np = np.array(sha.to_pylist(), dtype=object)
        url_np = np.array(url.to_pylist(), dtype=object)
        for k, i in enumerate(range(0, n, 10_000)):
            sha_np[i] = plant["shas"][(start // 10_000 + k) % len(plant["shas"])]
            planted += 1
        for k, i in enumerate(range(5_000, n, 10_000)):
            pk = plant["pages"][(start // 10_000 + k) % len(plant["pages"])]
            url_np[i] = (
                f"http://127.0.0.1:8000/works/{pk}/?utm_source=feed"
                if k % 2
                else f"https://www.artist{(pk - pk % 10) % 997}.example/p/{pk - pk % 10}/"
            )
            planted += 1
        table = pa.table(
            {
                "uid": uid,
                "url": pa.array(url_np, pa.string()),
                "text": pa.array(np.full(n, "a photo of a thing"), pa.string()),
                "original_width": pa.array(np.full(n, 1024), pa.int64()),
                "original_height": pa.array(np.full(n, 768), pa.int64()),
                "clip_b32_similarity_score": pa.array(rng.random(n, dtype=np.float32)),
                "clip_l14_similarity_score": pa.array(rng.random(n, dtype=np.float32)),
                "face_bboxes": pa.array([[]] * n, pa.list_(pa.list_(pa.float64()))),
                "sha256": pa.array(sha_np, pa.string()),
            }
        )
        assert tuple(table.column_names) == COMMONPOOL_COLUMNS
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema, compression="snappy")
        writer.write_table(table, row_group_size=group)
    writer.close()
    marker.write_text(str(planted))
    return planted


def scan(path: str, snapshot: str) -> dict:
    """Child process: every row group through the audit's own part function."""
    from audits.parts import parquet_part, parquet_plan
    from audits.registry import Snapshot

    snap = Snapshot.from_json(json.loads(snapshot))
    groups, total, error = parquet_plan(Path(path))
    assert not error, error
    started = time.perf_counter()
    found = rows = 0
    for _, start, count in groups:
        result = parquet_part(
            path=Path(path),
            name="bench.parquet",
            row_start=start,
            rows=count,
            snapshot=snap,
            sample=1.0,
            seed=0,
        )
        assert not result.error, result.error
        rows += result.rows_scanned
        found += len(result.found)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "peak_rss_mb": round(peak),
        "matches": found,
    }


# ------------------------------------------------------------------ shards and quality


def shard_speed(images: int) -> dict:
    import hashlib

    import cv2
    import faiss

    from audits.images import decode
    from audits.synthetic import encode, picture

    faiss.omp_set_num_threads(1)
    cv2.setNumThreads(1)
    data = [encode(picture(50_000 + i), "JPEG", 90) for i in range(min(images, 60))]
    data = (data * (images // len(data) + 1))[:images]
    started = time.perf_counter()
    for blob in data:
        hashlib.sha256(blob).hexdigest()
        decode(blob)
    seconds = time.perf_counter() - started
    return {
        "images": images,
        "decode_sha256_query_seconds": round(seconds, 2),
        "images_per_s_per_core": round(images / seconds, 1),
        "_data": data,
    }


def quality() -> dict:
    """The labelled real-photo set (tests/fixtures/photos.py) through one shard part against the
    registry: every original registered through the upload service, every copy and look-alike in
    one img2dataset shard."""
    import cv2
    import faiss
    from django.contrib.auth import get_user_model

    from audits.parts import shard_part
    from audits.registry import snapshot_write
    from audits.synthetic import write_shard
    from tests.fixtures.images import upload_file
    from tests.fixtures.photos import EDITS, edited_bytes, encode, photo_set
    from works.matching import WorkFeatures
    from works.models import Registration, Work
    from works.services import fingerprint_publish, work_upload

    photos = photo_set()
    user, _ = get_user_model().objects.get_or_create(username="0x" + "d" * 40)
    originals = {}
    for name, image in photos.originals:
        title = f"photo {name}"
        work = Work.objects.filter(title=title).first()
        if work is None:
            work = work_upload(
                user=user,
                creator_address="0x" + "D" * 40,
                file=upload_file(encode(image, "JPEG", 92), "photo.jpg"),
                title=title,
            )
            Registration.objects.filter(work=work).update(status="pending", signature="0x" + "11" * 65)
            work.refresh_from_db()
            fingerprint_publish(work=work)
        originals[work.pk] = (name, image)
    items, truth, category = [], {}, {}
    for n, (work_id, (_, image)) in enumerate(originals.items()):
        for e, edit in enumerate(EDITS):
            key = f"copy-{edit}-{work_id}"
            items.append({"key": key, "data": edited_bytes(image, edit, seed=n * 100 + e)})
            truth[key] = work_id
    lookalike_edits = ("webp", "mirror", "crop_10_side", "caption_bar", "screenshot_border")
    for k, (kind, _, image) in enumerate(photos.lookalikes):
        for e, edit in enumerate(lookalike_edits):
            key = f"alike-{kind}-{k}-{edit}"
            items.append({"key": key, "data": edited_bytes(image, edit, seed=k * 10 + e)})
            category[key] = kind
    shard = BENCH / "quality-photos.tar"
    write_shard(shard, items)
    snapshot = snapshot_write(BENCH / "quality-registry")
    faiss.omp_set_num_threads(1)
    cv2.setNumThreads(1)
    started = time.perf_counter()
    result = shard_part(
        path=shard,
        name="quality-photos.tar",
        snapshot=snapshot,
        sample=1.0,
        seed=0,
        check=lambda: None,
        features=WorkFeatures(),
    )
    seconds = time.perf_counter() - started
    copies, similar = {}, {}
    for (source, work_id), found in result.found.items():
        key = source.split(":", 1)[1]
        (similar if found.kind == "similar" else copies).setdefault(key, set()).add(work_id)
    true_pos = sum(1 for key, work in truth.items() if work in copies.get(key, set()))
    reported = sum(len(works) for works in copies.values())
    by_edit, missed_by_edit = {}, {}
    for edit in EDITS:
        keys = [k for k in truth if k.startswith(f"copy-{edit}-")]
        by_edit[edit] = round(sum(1 for k in keys if truth[k] in copies.get(k, set())) / len(keys), 4)
        missed = [k for k in keys if truth[k] not in copies.get(k, set())]
        if missed:  # why: candidate found but the evidence said "similar", or never a candidate
            near = sum(1 for k in missed if truth[k] in similar.get(k, set()))
            missed_by_edit[edit] = {"similar": near, "not_a_candidate": len(missed) - near}
    false_by_category = {kind: 0 for kind in sorted(set(category.values()))}
    similar_by_category = dict(false_by_category)
    for key, kind in category.items():
        false_by_category[kind] += len(copies.get(key, ()))
        similar_by_category[kind] += len(similar.get(key, ()))
    false_copies = sum(
        len(works - {truth[key]}) for key, works in copies.items() if key in truth
    )  # a copy of one work taken for another
    from works.fingerprint_index import fingerprint_index

    index = fingerprint_index()
    entries = index.index.ntotal + index.windows.ntotal
    return {
        "set": {
            "originals": len(originals),
            "copies": len(truth),
            "lookalikes": len(photos.lookalikes),
            "lookalike_items": len(category),
            "edits": list(EDITS),
            "lookalike_edits": list(lookalike_edits),
        },
        "recall": round(true_pos / len(truth), 4),
        "precision": round(true_pos / reported, 4) if reported else 1.0,
        "recall_by_edit": by_edit,
        "missed_by_edit": missed_by_edit,
        "false_by_category": false_by_category,
        "false_copies_of_another_work": false_copies,
        "similar_by_category": similar_by_category,
        "whole_shard_images_per_s_per_core": round(result.images_hashed / seconds, 1),
        "verified_by_keypoints": sum(1 for m in result.found.values() if m.inliers and m.kind == "pdq"),
        "index_entries_per_work": round(entries / len(index), 2),
        "index_bytes_per_work": round(entries * (32 + 8) / len(index)),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=12_800_000)
    parser.add_argument("--works", type=int, default=100_000)
    parser.add_argument("--shard-images", type=int, default=300)
    parser.add_argument("--quality-only", action="store_true", help="only the real-photo quality section")
    parser.add_argument("--manifest-only", action="store_true", help="only the manifest scan and its floor")
    parser.add_argument("--scan", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    _django()
    if args.scan:
        print(json.dumps(scan(*args.scan)))
        return
    if args.quality_only:
        print(json.dumps({"benchmark": "audit", "cpu_cores": os.cpu_count(), "quality": quality()}, indent=2))
        return
    from audits.registry import snapshot_write

    plant = seed_registry(args.works)
    snapshot = snapshot_write(BENCH / "registry")
    manifest = BENCH / f"commonpool-{args.rows}.parquet"
    t0 = time.perf_counter()
    planted = write_manifest(manifest, args.rows, plant)
    generated = time.perf_counter() - t0
    child = subprocess.run(
        [sys.executable, __file__, "--scan", str(manifest), json.dumps(snapshot.as_json())],
        capture_output=True,
        text=True,
        check=True,
    )
    scanned = json.loads(child.stdout.strip().splitlines()[-1])
    floor_seconds = floors.floor("audit")[0]  # one plain DuckDB join of the same manifest, same machine
    report = {
        "benchmark": "audit",
        "cpu_cores": os.cpu_count(),
        "manifest": {
            **scanned,
            "file_mb": round(manifest.stat().st_size / 2**20),
            "registry_works": snapshot.works,
            "planted": planted,
            "generated_seconds": round(generated, 1),
        },
        "floor": {"manifest_seconds": floor_seconds},
        "ratio": {"manifest_seconds": round(scanned["seconds"] / floor_seconds, 2)},
    }
    if not args.manifest_only:
        speed = shard_speed(args.shard_images)
        speed.pop("_data")
        q = quality()
        whole = q.pop("whole_shard_images_per_s_per_core")
        report["shards"] = {**speed, "whole_shard_images_per_s_per_core": whole}
        report["quality"] = q
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
