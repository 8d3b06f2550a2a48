"""Fingerprinting and near-duplicate search throughput.

    .venv/bin/python bench/fingerprint.py [--images 40] [--queries 300] [--sizes 100000,1000000]

Prints JSON: images/second for sha256 + PDQ (the upload path: works.fingerprints) on generated
1024x768 and 4000x3000 JPEGs, and fingerprint-index queries/second (works.fingerprint_index,
faiss IndexBinaryFlat, exact, radius 31) at 100k and 1M works.
"""

import argparse
import io
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from works.fingerprint_index import FingerprintIndex  # noqa: E402
from works.fingerprints import pdq_image, sha256_of  # noqa: E402


def jpeg(seed, size):
    rng = np.random.default_rng(seed)
    w, h = size
    small = Image.fromarray(rng.integers(0, 255, (h // 16, w // 16, 3), dtype=np.uint8), "RGB")
    image = small.resize(size, Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(image)
    for _ in range(20):
        x, y, r = int(rng.integers(0, w)), int(rng.integers(0, h)), int(rng.integers(20, min(size) // 4))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
    buffer = io.BytesIO()
    image.filter(ImageFilter.GaussianBlur(1)).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def bench_images(count, size):
    files = [jpeg(i, size) for i in range(count)]
    started = time.perf_counter()
    for data in files:
        handle = io.BytesIO(data)
        sha256_of(handle)
        with Image.open(handle, formats=["JPEG"]) as image:
            pdq_image(image)
    elapsed = time.perf_counter() - started
    return {
        "size": f"{size[0]}x{size[1]}",
        "images": count,
        "mean_file_kb": round(sum(map(len, files)) / count / 1024, 1),
        "images_per_second": round(count / elapsed, 1),
    }


def bench_index(n, queries, rng):
    index = FingerprintIndex()
    codes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    started = time.perf_counter()
    index.index.add_with_ids(codes, np.arange(1, n + 1, dtype=np.int64))
    build = time.perf_counter() - started
    # Queries: half are near copies (a few bits flipped) of indexed works, half are unrelated.
    probes = []
    for q in range(queries):
        if q % 2 == 0:
            code = codes[rng.integers(0, n)].copy()
            for bit in rng.choice(256, size=8, replace=False):
                code[bit // 8] ^= 1 << (bit % 8)
        else:
            code = rng.integers(0, 256, 32, dtype=np.uint8)
        probes.append(code.tobytes().hex())
    found = 0
    started = time.perf_counter()
    for probe in probes:
        found += bool(index.search(probe, radius=31))
    elapsed = time.perf_counter() - started
    return {
        "works": n,
        "build_seconds": round(build, 2),
        "queries": queries,
        "queries_per_second": round(queries / elapsed, 1),
        "near_copies_found": f"{found}/{queries // 2 + queries % 2}",
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--sizes", default="100000,1000000")
    args = parser.parse_args()
    import faiss

    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(7)
    print(
        json.dumps(
            {
                "benchmark": "fingerprint",
                "threads": 1,
                "sha256_plus_pdq": [
                    bench_images(args.images, (1024, 768)),
                    bench_images(max(5, args.images // 4), (4000, 3000)),
                ],
                "index_radius_bits": 31,
                "index": [bench_index(int(n), args.queries, rng) for n in args.sizes.split(",")],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
