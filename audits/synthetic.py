"""Synthetic pictures and the edits datasets make to them, for the audit tests and
bench/audit.py: varied enough (gradients, shapes, strokes, texture) that unrelated pictures are
as far apart in PDQ as unrelated photographs, and edited the way scrapers and dataset builders
edit images. Also writers for CommonPool-shaped parquet manifests and img2dataset shards."""

import io
import json
import random
import tarfile

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

COMMONPOOL_COLUMNS = (
    "uid",
    "url",
    "text",
    "original_width",
    "original_height",
    "clip_b32_similarity_score",
    "clip_l14_similarity_score",
    "face_bboxes",
    "sha256",
)


def picture(seed: int, size=(1024, 768)) -> Image.Image:
    rng = np.random.default_rng(seed)
    width, height = size
    angle = rng.uniform(0, 2 * np.pi)
    x = np.linspace(-1, 1, width)[None, :]
    y = np.linspace(-1, 1, height)[:, None]
    t = (np.cos(angle) * x + np.sin(angle) * y + 1) / 2
    c0, c1 = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    base = c0[None, None, :] * (1 - t[..., None]) + c1[None, None, :] * t[..., None]
    image = Image.fromarray(base.astype("uint8"), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(8, 30))):
        kind = int(rng.integers(0, 4))
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        r = int(rng.integers(min(size) // 30, min(size) // 4))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if kind == 0:
            draw.ellipse([x0 - r, y0 - r, x0 + r, y0 + r], fill=colour)
        elif kind == 1:
            draw.rectangle([x0 - r, y0 - r // 2, x0 + r, y0 + r // 2], fill=colour)
        elif kind == 2:
            draw.polygon(
                [(int(rng.integers(0, width)), int(rng.integers(0, height))) for _ in range(3)], fill=colour
            )
        else:
            end = (int(rng.integers(0, width)), int(rng.integers(0, height)))
            draw.line([x0, y0, *end], fill=colour, width=int(rng.integers(2, 12)))
    image = image.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.5, 2.5))))
    noise = rng.normal(0, rng.uniform(2, 10), (height, width, 3))
    return Image.fromarray(np.clip(np.asarray(image) + noise, 0, 255).astype("uint8"))


def encode(image: Image.Image, fmt: str = "JPEG", quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **({"quality": quality} if fmt in ("JPEG", "WEBP") else {}))
    return buffer.getvalue()


# ------------------------------------------------------------------ edits


def _crop(image, rng):
    w, h = image.size
    left, top, right, bottom = (rng.uniform(0, 0.06) for _ in range(4))
    return image.crop((int(w * left), int(h * top), w - int(w * right), h - int(h * bottom)))


def _caption(image, rng):
    image = image.copy()
    w, h = image.size
    band = rng.uniform(0.06, 0.15)
    top = rng.random() < 0.3
    y0, y1 = (0, int(h * band)) if top else (int(h * (1 - band)), h)
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, y0, w, y1], fill=(0, 0, 0) if rng.random() < 0.5 else (255, 255, 255))
    font = ImageFont.load_default(size=max(8, int(h * band * 0.6)))
    draw.text((10, y0 + 2), "a photo of a thing on a table", fill=(128, 128, 128), font=font)
    return image


def _watermark(image, rng):
    w, h = image.size
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    font = ImageFont.load_default(size=int(h * rng.uniform(0.04, 0.08)))
    where = (int(w * rng.uniform(0, 0.7)), int(h * rng.uniform(0, 0.9)))
    draw.text(where, "© stockimages", fill=(255, 255, 255, int(rng.uniform(100, 200))), font=font)
    return Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB")


def _reencode(image, fmt, **kwargs):
    return Image.open(io.BytesIO(encode(image, fmt, **kwargs)))


EDITS = {
    "resized": lambda im, rng: im.resize(
        (int(im.size[0] * rng.uniform(0.3, 0.7)), int(im.size[1] * rng.uniform(0.3, 0.7)))
    ),
    "recompressed": lambda im, rng: _reencode(im, "JPEG", quality=int(rng.uniform(25, 60))),
    "converted": lambda im, rng: _reencode(im, rng.choice(["PNG", "WEBP"])),
    "mirrored": lambda im, rng: ImageOps.mirror(im),
    "rotated": lambda im, rng: im.rotate(rng.choice([90, 180, 270]), expand=True),
    "cropped": _crop,
    "watermarked": _watermark,
    "captioned": _caption,
    "brightened": lambda im, rng: ImageEnhance.Brightness(im).enhance(rng.uniform(1.2, 1.45)),
    "darkened": lambda im, rng: ImageEnhance.Brightness(im).enhance(rng.uniform(0.55, 0.8)),
}


def edited(image: Image.Image, edit: str, seed: int) -> Image.Image:
    return EDITS[edit](image.convert("RGB"), random.Random(seed)).convert("RGB")


# ------------------------------------------------------------------ dataset files


def commonpool_table(rows: list[dict]):
    """A CommonPool-shaped pyarrow table; missing values are filled like the real metadata."""
    import pyarrow as pa

    def col(name, default):
        return [row.get(name, default(i)) for i, row in enumerate(rows)]

    return pa.table(
        {
            "uid": pa.array(col("uid", lambda i: f"{i:032x}"), pa.string()),
            "url": pa.array(col("url", lambda i: f"https://cdn.example.net/img/{i}.jpg"), pa.string()),
            "text": pa.array(col("text", lambda i: "a picture"), pa.string()),
            "original_width": pa.array(col("original_width", lambda i: 1024), pa.int64()),
            "original_height": pa.array(col("original_height", lambda i: 768), pa.int64()),
            "clip_b32_similarity_score": pa.array(
                col("clip_b32_similarity_score", lambda i: 0.3), pa.float32()
            ),
            "clip_l14_similarity_score": pa.array(
                col("clip_l14_similarity_score", lambda i: 0.3), pa.float32()
            ),
            "face_bboxes": pa.array(col("face_bboxes", lambda i: []), pa.list_(pa.list_(pa.float64()))),
            "sha256": pa.array(col("sha256", lambda i: f"{i:064x}"), pa.string()),
        }
    )


def write_shard(path, items: list[dict]) -> dict:
    """An img2dataset WebDataset shard: for each item `{key}.jpg|png|webp` (its `data`),
    `{key}.json` (url, sha256, uid, sizes…) and `{key}.txt`; and `<shard>_stats.json` beside it."""
    import hashlib

    with tarfile.open(path, "w") as archive:
        for item in items:
            key = item["key"]
            members = []
            if item.get("data") is not None:
                members.append((f"{key}.{item.get('ext', 'jpg')}", item["data"]))
            meta = {
                "key": key,
                "url": item.get("url", f"https://cdn.example.net/{key}.jpg"),
                "caption": item.get("caption", "a picture"),
                "status": "success",
                "uid": item.get("uid", key),
            }
            if item.get("data") is not None:
                meta["sha256"] = item.get("sha256", hashlib.sha256(item["data"]).hexdigest())
            members.append((f"{key}.json", json.dumps(meta).encode()))
            members.append((f"{key}.txt", meta["caption"].encode()))
            for name, data in members:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    stats = {"count": len(items), "successes": sum(1 for i in items if i.get("data") is not None)}
    (path.parent / (path.name.split(".")[0] + "_stats.json")).write_text(json.dumps(stats))
    return stats
