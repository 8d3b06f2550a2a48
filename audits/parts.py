"""Processing one part of an audit: a parquet row group, a CSV file, or a WebDataset shard.

A part reads its items in bounded chunks, matches them against the audit's registry snapshot and
returns its matches and counters; `audits.services.part_run` stores them in one transaction
(replacing whatever an earlier, interrupted run of the same part stored). Bad items (a broken CSV
row, an image that is not one, a decompression bomb) are counted and described, never fatal; a
part whose file cannot be read at all fails with a message while the other parts go on.
"""

import csv
import hashlib
import io
import json
import os
import tarfile
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings

from audits.registry import Snapshot
from works.fingerprint_index import fingerprint_index
from works.matching import COPY, WorkFeatures, find

MAX_PROBLEMS = 20
CHUNK_ROWS = 250_000
IMAGE_BATCH = 128
MANIFEST_COLUMNS = ("uid", "url", "sha256")
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp"}

ERR_NO_COLUMNS = "{name} has neither a url nor a sha256 column (it has: {columns})."
ERR_UNREADABLE = "{name} could not be read: {error}"
ERR_TRUNCATED = "{name} is truncated or damaged after {images} images: {error}"
ERR_CSV_ROW = "line {line}: {problem}"
ERR_MEMBER_TOO_BIG = "{member}: {size:,} bytes is over the {limit:,}-byte limit"


class Cancelled(Exception):
    pass


@dataclass
class Found:
    work_id: int
    kind: str
    source: str
    source_row: int | None = None
    source_uid: str = ""
    source_key: str = ""
    source_url: str = ""
    distance: int | None = None
    inliers: int | None = None
    evidence: bytes | None = None  # a JPEG of the dataset image, for near-duplicates


@dataclass
class PartResult:
    rows_total: int = 0
    rows_scanned: int = 0
    images_hashed: int = 0
    items_bad: int = 0
    problems: list[str] = field(default_factory=list)
    found: dict[tuple[str, int], Found] = field(default_factory=dict)
    error: str = ""

    def problem(self, message: str) -> None:
        self.items_bad += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(message)

    def add(self, match: Found) -> None:
        """One match per (item, work): an exact hash beats a URL, which beats a near-duplicate,
        which beats a look-alike ("similar", not a copy)."""
        rank = {"sha256": 0, "url": 1, "pdq": 2, "similar": 3}
        key = (match.source, match.work_id)
        current = self.found.get(key)
        if current is None or rank[match.kind] < rank[current.kind]:
            self.found[key] = match


# ------------------------------------------------------------------ DuckDB and the snapshot

_local = threading.local()


@dataclass
class _Registry:
    """A DuckDB connection with the snapshot's tables, and how many characters of a URL's host
    the scan compares with reg_prefixes (_match_sql)."""

    con: duckdb.DuckDBPyConnection
    prefix_chars: int


# How many characters of each URL's host the scan's first test compares (fewer when a registered
# host is shorter): at most 12, so the part it takes is a string DuckDB keeps inline, without an
# allocation (bench/audit.py).
MAX_PREFIX_CHARS = 12


def _registry(snapshot: Snapshot) -> _Registry:
    """One DuckDB connection per process (and thread) per snapshot, with the registry loaded.
    Made lazily, after a Celery worker has forked."""
    cache = getattr(_local, "connections", None)
    if cache is None or cache.get("pid") != os.getpid():
        cache = _local.connections = {"pid": os.getpid()}
    key = str(snapshot.path)
    if key not in cache:
        for old in [k for k in cache if k != "pid"]:
            cache.pop(old).con.close()
        con = duckdb.connect()
        con.execute(f"SET memory_limit = '{settings.AUDIT_DUCKDB_MEMORY}'")
        con.execute(f"SET threads = {int(settings.AUDIT_DUCKDB_THREADS)}")
        for table in ("publications", "hosts"):  # registered paths are matched in Python
            con.execute(
                f"CREATE TABLE reg_{table} AS SELECT * FROM read_parquet(?)",  # noqa: S608
                [str(snapshot.file(table))],
            )
        # each digest as a manifest may write it: lower case (hashlib's) and upper case, so the
        # scan joins the column as it is instead of lower-casing 4M strings per part (a third of
        # a part's time, bench/audit.py); a sha256 in mixed case is not found by the scan
        con.execute(
            "CREATE TABLE reg_digest_forms AS SELECT sha256 AS form, work_id FROM read_parquet($d) "
            "UNION ALL SELECT upper(sha256), work_id FROM read_parquet($d)",
            {"d": str(snapshot.file("digests"))},
        )
        # every host a registered URL can be on: the portal's, and the declared publications'
        con.execute(
            "CREATE TABLE reg_url_hosts AS SELECT DISTINCT lower(split_part(loose, '/', 1)) AS host "
            "FROM reg_publications UNION SELECT lower(host) FROM reg_hosts"
        )
        # each host as the authority of an http(s) URL may write it: with "www." and the default
        # ports, so that most URLs are tested with one split and no normalisation (_match_sql)
        con.execute(
            "CREATE TABLE reg_host_forms AS SELECT DISTINCT unnest([host, 'www.' || host, host || ':80', "
            "host || ':443', 'www.' || host || ':80', 'www.' || host || ':443']) AS form FROM reg_url_hosts"
        )
        # (an IPv6 host such as ::1 is written in brackets in a URL, never as a form: left out)
        shortest = con.execute(
            "SELECT min(length(host)) FROM reg_url_hosts WHERE host <> '' AND NOT contains(host, '::')"
        ).fetchone()[0]
        chars = max(0, min(MAX_PREFIX_CHARS, (shortest or MAX_PREFIX_CHARS + 1) - 1))
        # what a URL on a form's host holds as its 9th to (8 + chars)th characters: the form's
        # first `chars` after https://, its 2nd to (chars + 1)th after http:// (_match_sql)
        con.execute(
            f"CREATE TABLE reg_prefixes AS SELECT DISTINCT left(form, {chars}) AS prefix FROM reg_host_forms "  # noqa: S608
            f"UNION SELECT DISTINCT substr(form, 2, {chars}) FROM reg_host_forms"
        )
        cache[key] = _Registry(con=con, prefix_chars=chars)
    return cache[key]


def _sample_sql(sample: float, seed: int) -> str:
    if sample >= 1:
        return "TRUE"
    return f"(hash(file_row, {int(seed)}) % 1000000) < {int(sample * 1_000_000)}"


# The host of a URL without regular expressions (they cost more than the rest of the scan):
# after the scheme, before the first / ? or #, lower case, without "www." and a default port.
def _host_sql(col: str) -> str:
    after = f"CASE WHEN contains({col}, '://') THEN split_part({col}, '://', 2) ELSE {col} END"
    bare = f"lower(split_part(split_part(split_part({after}, '/', 1), '?', 1), '#', 1))"
    no_port = (
        f"CASE WHEN suffix({bare}, ':80') THEN left({bare}, length({bare}) - 3) "
        f"WHEN suffix({bare}, ':443') THEN left({bare}, length({bare}) - 4) ELSE {bare} END"
    )
    return f"(CASE WHEN starts_with({no_port}, 'www.') THEN substr({no_port}, 5) ELSE {no_port} END)"


def _host_key_sql(col: str, authority: str) -> str:
    """A key to look the URL's host up in reg_host_forms, given `authority`, the URL's third
    /-separated part (its authority when it has a scheme). When that part holds no ? or # and the
    URL has a scheme (nearly every URL), the key is that part in lower case (the forms list each
    host with "www." and the default ports); any other URL goes through the whole normalisation
    (_host_sql), so both give the same answer. Only the short part is searched for ? and #, and
    "://" is found within a URL's first characters: a search of the whole URL for a character it
    does not hold cost more than the rest of the key (bench/audit.py). No subquery sits inside the
    CASE: DuckDB would run it per row."""
    odd = f"contains({authority}, '?') OR contains({authority}, '#') OR NOT contains({col}, '://')"
    return f"(CASE WHEN {odd} THEN {_host_sql(col)} ELSE lower({authority}) END)"


def _match_sql(source: str, where: str, prefix_chars: int) -> str:
    """Candidate rows of `source` (columns file_row, uid, url, sha), in one pass: an exact hash
    of a registered work, or a URL on a host where a registered URL lives (the portal's, or a
    declared publication's). Both are hash joins, and the host is only worked out for the few
    rows that need it: a row goes on to the host test when its digest is registered, when its
    9th to (8 + prefix_chars)th characters, in lower case, are in reg_prefixes, or when it starts
    with neither http:// nor https://. A URL on a registered host always passes (after https://
    those characters begin the host's form, after http:// they are the form's 2nd onwards, and
    reg_prefixes holds both), so the candidates are those the host test alone would give, for
    a third of its cost (bench/audit.py). The few URL candidates are confirmed in Python with
    the loose and then the exact normalised key; no regular expression runs over the whole
    column."""
    chars = int(prefix_chars)
    host = _host_key_sql("c.url", "split_part(c.url, '/', 3)")
    return f"""
        SELECT c.file_row, c.uid, c.url, c.work_id, f.form IS NOT NULL
        FROM (
            SELECT t.file_row, t.uid, t.url, d.work_id
            FROM (SELECT file_row, uid, url, sha FROM {source} WHERE {where}) t
            LEFT JOIN reg_digest_forms d ON d.form = t.sha
            WHERE d.work_id IS NOT NULL
                OR lower(substr(t.url, 9, {chars})) IN (SELECT prefix FROM reg_prefixes)
                OR NOT (starts_with(t.url, 'https://') OR starts_with(t.url, 'http://'))
        ) c
        LEFT JOIN reg_host_forms f ON f.form = {host}
        WHERE c.work_id IS NOT NULL OR f.form IS NOT NULL
    """  # noqa: S608 (no user input in the text: SQL fragments and numbers only)


def match_items(snapshot: Snapshot, items: pa.Table, *, sample: float, seed: int) -> tuple[int, list[tuple]]:
    """Items (file_row, uid, url, sha) -> (rows kept by the sample, candidate rows
    (file_row, uid, url, sha work id or None, url candidate?))."""
    registry = _registry(snapshot)
    con = registry.con
    con.register("items", items)
    try:
        where = _sample_sql(sample, seed)
        kept = con.execute(f"SELECT count(*) FROM items WHERE {where}").fetchone()[0]  # noqa: S608
        rows = con.execute(_match_sql("items", where, registry.prefix_chars)).fetchall()
    finally:
        con.unregister("items")
    return kept, rows


def _record_manifest_rows(result: PartResult, snapshot: Snapshot, name: str, rows) -> None:
    urls = [row[2] if row[4] and snapshot.loose_known(row[2]) else None for row in rows]
    works = snapshot.works_for_urls(urls)
    for (file_row, uid, url, sha_work, _), url_work in zip(rows, works, strict=True):
        base = {
            "source": f"{name}#{file_row}",
            "source_row": int(file_row),
            "source_uid": (uid or "")[:200],
            "source_url": url or "",
        }
        if sha_work is not None:
            result.add(Found(work_id=int(sha_work), kind="sha256", **base))
        if url_work is not None:
            result.add(Found(work_id=url_work, kind="url", **base))


# ------------------------------------------------------------------ parquet


def parquet_plan(path: Path, part_rows: int | None = None) -> tuple[list[tuple[int, int, int]], int, str]:
    """Parts of a parquet file: [(first row group, first row, rows)], consecutive whole row groups
    of up to `part_rows` rows (AUDIT_PART_ROWS) each, the last up to 1.5 times that; the total
    rows; and an error when the file cannot be audited."""
    part_rows = part_rows or settings.AUDIT_PART_ROWS
    try:
        meta = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        return [], 0, ERR_UNREADABLE.format(name=path.name, error=str(exc)[:300])
    names = set(meta.schema_arrow.names)
    if not names & {"url", "sha256"}:
        return (
            [],
            meta.metadata.num_rows,
            ERR_NO_COLUMNS.format(name=path.name, columns=", ".join(sorted(names)) or "none"),
        )
    parts, start = [], 0
    for index in range(meta.num_row_groups):
        rows = meta.metadata.row_group(index).num_rows
        if parts and parts[-1][2] + rows <= part_rows:
            first, first_row, count = parts[-1]
            parts[-1] = (first, first_row, count + rows)
        else:
            parts.append((index, start, rows))
        start += rows
    if len(parts) > 1 and parts[-1][2] < part_rows // 2:
        # a short last part goes with the one before: DuckDB reads a part's row groups one per
        # thread, so a part of one row group keeps a core idle (bench/audit.py: 0.29 s for the
        # last 0.8M rows of 12.8M, alone, against 0.13 s within the part before)
        (first, first_row, count), (_, _, rest) = parts[-2], parts.pop()
        parts[-1] = (first, first_row, count + rest)
    return parts, start, ""


def parquet_part(
    *, path: Path, name: str, row_start: int, rows: int, snapshot: Snapshot, sample: float, seed: int
) -> PartResult:
    """Rows [row_start, row_start + rows) of a parquet file, read by DuckDB straight from the
    file (only the columns used; the filter on the file row number skips the other row groups,
    and DuckDB spreads this part's row groups over its threads), joined with the registry in one
    pass."""
    result = PartResult()
    try:
        names = set(pq.ParquetFile(path).schema_arrow.names)
    except (OSError, pa.ArrowException) as exc:
        result.error = ERR_UNREADABLE.format(name=name, error=str(exc)[:300])
        return result
    columns = ", ".join(
        f"CAST({c} AS VARCHAR) AS {alias}" if c in names else f"NULL::VARCHAR AS {alias}"
        for c, alias in (("uid", "uid"), ("url", "url"), ("sha256", "sha"))
    )
    registry = _registry(snapshot)
    con = registry.con
    source = (  # column names from a fixed list, numbers from the file's metadata
        f"(SELECT file_row_number AS file_row, {columns} FROM read_parquet($path, file_row_number = true) "  # noqa: S608
        f"WHERE file_row_number BETWEEN {int(row_start)} AND {int(row_start + rows - 1)})"
    )
    where = _sample_sql(sample, seed)
    try:
        if sample >= 1:
            kept = rows
        else:
            count = f"SELECT count(*) FROM {source} WHERE {where}"  # noqa: S608
            kept = con.execute(count, {"path": str(path)}).fetchone()[0]
        found = con.execute(_match_sql(source, where, registry.prefix_chars), {"path": str(path)}).fetchall()
    except duckdb.Error as exc:
        result.error = ERR_UNREADABLE.format(name=name, error=str(exc).splitlines()[0][:300])
        return result
    result.rows_total = rows
    result.rows_scanned = kept
    _record_manifest_rows(result, snapshot, name, found)
    return result


# ------------------------------------------------------------------ CSV


def csv_part(
    *, path: Path, name: str, snapshot: Snapshot, sample: float, seed: int, check: Callable
) -> PartResult:
    """A CSV with a header naming at least url or sha256 (uid optional), read in chunks; a row
    that does not parse or has the wrong number of fields is reported by its line number."""
    result = PartResult()
    try:
        handle = open(path, newline="", encoding="utf-8", errors="replace")  # noqa: SIM115
    except OSError as exc:
        result.error = ERR_UNREADABLE.format(name=name, error=exc)
        return result
    with handle:
        reader = csv.reader(handle)
        try:
            header = [h.strip().lower() for h in next(reader)]
        except (StopIteration, csv.Error) as exc:
            result.error = ERR_UNREADABLE.format(name=name, error=exc or "empty file")
            return result
        if not {"url", "sha256"} & set(header):
            result.error = ERR_NO_COLUMNS.format(name=name, columns=", ".join(header) or "none")
            return result
        where = {c: header.index(c) for c in MANIFEST_COLUMNS if c in header}
        buffers: dict[str, list] = {c: [] for c in where}
        rows: list[int] = []

        def flush():
            if not rows:
                return
            table = pa.table(
                {
                    "file_row": pa.array(rows, pa.int64()),
                    **{
                        c: (
                            pa.array(buffers[c], pa.string())
                            if c in buffers
                            else pa.nulls(len(rows), pa.string())
                        )
                        for c in MANIFEST_COLUMNS
                    },
                }
            ).rename_columns(["file_row", "uid", "url", "sha"])
            kept, found = match_items(snapshot, table, sample=sample, seed=seed)
            result.rows_scanned += kept
            _record_manifest_rows(result, snapshot, name, found)
            rows.clear()
            for values in buffers.values():
                values.clear()
            check()

        while True:
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                result.problem(ERR_CSV_ROW.format(line=reader.line_num, problem=exc))
                continue
            if not record:
                continue
            result.rows_total += 1
            if len(record) != len(header):
                result.problem(
                    ERR_CSV_ROW.format(
                        line=reader.line_num,
                        problem=f"{len(record)} fields where the header has {len(header)}",
                    )
                )
                continue
            rows.append(reader.line_num)
            for column, position in where.items():
                buffers[column].append(record[position] or None)
            if len(rows) >= CHUNK_ROWS:
                flush()
        flush()
    return result


# ------------------------------------------------------------------ WebDataset shards


def _evidence(normalised) -> bytes:
    buffer = io.BytesIO()
    thumb = normalised.copy()
    thumb.thumbnail((480, 480))
    thumb.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def shard_part(
    *, path: Path, name: str, snapshot: Snapshot, sample: float, seed: int, check: Callable, features=None
) -> PartResult:
    """Stream a WebDataset tar: `{key}.jpg|png|webp` with `{key}.json` (url, sha256, uid…) and
    `{key}.txt`. Every image's bytes are hashed (sha256) and fingerprinted (PDQ, dihedral); its
    URL comes from its json."""
    from audits.images import BadImage, decode

    result = PartResult()
    features = features or WorkFeatures()
    public = snapshot.work_ids
    pending: list[tuple[str, object]] = []  # (key, decoded image)
    meta: dict[str, dict] = {}

    def keep(key: str) -> bool:
        if sample >= 1:
            return True
        digest = hashlib.sha256(f"{seed}:{name}:{key}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < sample

    def source(key):
        info = meta.get(key, {})
        return {
            "source": f"{name}:{key}",
            "source_key": key[:200],
            "source_uid": str(info.get("uid") or "")[:200],
            "source_url": str(info.get("url") or ""),
        }

    def near_duplicates():
        if not pending:
            return
        answers = find(
            [decoded.query for _, decoded in pending],
            index=fingerprint_index(),
            features=features,
            allowed=public,
        )
        for (key, decoded), matches in zip(pending, answers, strict=True):
            for match in matches:
                result.add(
                    Found(
                        work_id=match.work_id,
                        kind="pdq" if match.verdict == COPY else "similar",
                        distance=match.distance,
                        inliers=match.inliers,
                        evidence=_evidence(decoded.normalised),
                        **source(key),
                    )
                )
        pending.clear()
        check()

    images_seen = 0
    try:
        with tarfile.open(path, mode="r|*") as archive:
            for member in archive:
                if not member.isfile():
                    continue
                member_path = PurePosixPath(member.name)
                key, ext = str(member_path.with_suffix("")), member_path.suffix.lower()
                if ext == ".json":
                    handle = archive.extractfile(member)
                    try:
                        meta[key] = json.loads(handle.read(1 << 20))
                    except (ValueError, UnicodeDecodeError):
                        result.problem(f"{member.name}: not valid JSON")
                    continue
                if ext not in IMAGE_EXTENSIONS:
                    continue
                images_seen += 1
                result.rows_total += 1
                if not keep(key):
                    continue
                if member.size > settings.AUDIT_MAX_MEMBER_BYTES:
                    result.problem(
                        ERR_MEMBER_TOO_BIG.format(
                            member=member.name, size=member.size, limit=settings.AUDIT_MAX_MEMBER_BYTES
                        )
                    )
                    continue
                data = archive.extractfile(member).read()
                result.rows_scanned += 1
                sha = hashlib.sha256(data).hexdigest()
                if (work := snapshot.work_for_sha(sha)) is not None:
                    result.add(Found(work_id=work, kind="sha256", **source(key)))
                try:
                    decoded = decode(data)
                except BadImage as exc:
                    result.problem(f"{member.name}: {exc}")
                    continue
                result.images_hashed += 1
                pending.append((key, decoded))
                if len(pending) >= IMAGE_BATCH:
                    near_duplicates()
        near_duplicates()
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        near_duplicates()
        result.error = ERR_TRUNCATED.format(
            name=name, images=images_seen, error=str(exc)[:200] or type(exc).__name__
        )
    # URLs and declared hashes from the json files (also of items whose image is bad or missing)
    _urls(result, snapshot, meta, [key for key in meta if keep(key)], source)
    # an image matched before its json was read (img2dataset writes the json after the image)
    keys = {f"{name}:{key}": key for key in meta}
    for found in result.found.values():
        if not found.source_url and found.source in keys:
            filled = source(keys[found.source])
            found.source_uid, found.source_url = filled["source_uid"], filled["source_url"]
    return result


def _urls(result: PartResult, snapshot: Snapshot, meta: dict, keys: list[str], source) -> None:
    infos = [meta.get(key) or {} for key in keys]
    urls = [url if isinstance(url := info.get("url"), str) else None for info in infos]
    for key, info, work in zip(keys, infos, snapshot.works_for_urls(urls), strict=True):
        if work is not None:
            result.add(Found(work_id=work, kind="url", **source(key)))
        declared = info.get("sha256")
        if isinstance(declared, str) and (work := snapshot.work_for_sha(declared)) is not None:
            result.add(Found(work_id=work, kind="sha256", **source(key)))
