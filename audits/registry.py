"""What an audit matches against: a snapshot of the registry, written once when the audit starts
and read by every part, so all parts of one audit see the same registry.

- digests: sha256 -> work, for every public work's original, preview, thumbnail and each
  licensed download the portal served (`works.WorkDigest`);
- paths: the portal's own page and media paths of public works (matched on the portal's hosts);
- publications: the normalised URLs creators declared (`works.WorkPublication`).

URLs are matched in three steps: rows whose host is a registered URL's host (found set-based in
DuckDB, without regular expressions), then a loose key (lower case; scheme, "www.", default port,
query, fragment and trailing slashes dropped, repeated slashes collapsed), then the exact
normalised key (`works.publications.url_key`). Equal exact keys always have equal loose keys and
hosts, so the first steps never lose a match.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.conf import settings

from works.models import Work, WorkDigest, WorkPublication
from works.publications import portal_hosts, portal_path, url_key

_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*://")
_PORT = re.compile(r"^([^/]*):(?:80|443)(/|$)")


def loose_key(url: str) -> str:
    text = url.strip().lower() if isinstance(url, str) else ""
    text = _SCHEME.sub("", text, count=1)
    text = text.removeprefix("www.")
    text = re.split(r"[?#]", text, maxsplit=1)[0]
    text = _PORT.sub(r"\1\2", text, count=1)
    text = re.sub(r"/+", "/", text)
    return text.rstrip("/")


def loose_of_key(key: str) -> str:
    """The loose key of an exact key (which has no scheme, www. or default port already)."""
    return re.sub(r"/+", "/", key.split("?", 1)[0].lower()).rstrip("/")


@dataclass
class Snapshot:
    path: Path
    hosts: list[str]
    works: int
    digests: int
    publications: int
    # loaded lazily for Python-side matching
    _sha: dict[str, int] | None = field(default=None, repr=False)
    _paths: pa.Table | None = field(default=None, repr=False)  # path, work_id: never a dict
    _publications: dict[str, int] | None = field(default=None, repr=False)
    _loose: set[str] | None = field(default=None, repr=False)

    def as_json(self) -> dict:
        return {
            "path": str(self.path),
            "hosts": self.hosts,
            "works": self.works,
            "digests": self.digests,
            "publications": self.publications,
        }

    @classmethod
    def from_json(cls, data: dict) -> "Snapshot":
        return cls(
            path=Path(data["path"]),
            hosts=list(data["hosts"]),
            works=data["works"],
            digests=data["digests"],
            publications=data["publications"],
        )

    def file(self, name: str) -> Path:
        return self.path / f"{name}.parquet"

    def _load_digests(self):
        if self._sha is None:
            digests = pq.read_table(self.file("digests")).to_pydict()
            self._sha = dict(zip(digests["sha256"], digests["work_id"], strict=True))

    def _load_publications(self):
        if self._publications is None:
            publications = pq.read_table(self.file("publications")).to_pydict()
            self._publications = dict(zip(publications["key"], publications["work_id"], strict=True))
            self._loose = set(publications["loose"])

    def loose_known(self, url: str | None) -> bool:
        """A cheap first test for a URL candidate: its loose key is a declared publication's, or it
        is on one of the portal's hosts."""
        if not url:
            return False
        self._load_publications()
        loose = loose_key(url)
        return loose in self._loose or loose.partition("/")[0] in self.hosts

    @property
    def work_ids(self) -> set[int]:
        self._load_digests()
        return set(self._sha.values())

    def work_for_sha(self, sha: str | None) -> int | None:
        self._load_digests()
        return self._sha.get((sha or "").lower()) if sha else None

    def works_for_urls(self, urls: list[str | None]) -> list[int | None]:
        """The public work each URL names (None where none), by its exact normalised key: a
        declared publication's key, or a page or media path of the portal's on one of its hosts
        (/works/<id>/anything names the work). The paths the URLs could name are looked up all
        at once in the registered paths' column (about three per work), which is never turned
        into a dict."""
        self._load_publications()
        found: list[int | None] = [None] * len(urls)
        on_portal: list[tuple[int, str, str | None]] = []  # (index, path, /works/<id> of it)
        for index, url in enumerate(urls):
            key = url_key(url) if url else None
            if key is None:
                continue
            if (work := self._publications.get(key)) is not None:
                found[index] = work
                continue
            if key.partition("/")[0] not in self.hosts:
                continue
            path = portal_path(key).rstrip("/") or "/"
            page = "/".join(path.split("/")[:3]) if path.startswith("/works/") else None
            on_portal.append((index, path, page))
        if on_portal:
            if self._paths is None:
                self._paths = pq.read_table(self.file("paths"), columns=["path", "work_id"])
            wanted = pa.array(
                sorted({p for _, path, page in on_portal for p in (path, page) if p}), pa.string()
            )
            # the registered paths probe the few wanted ones (hashing those, not 300k paths)
            hits = self._paths.filter(pc.is_in(self._paths["path"], value_set=wanted))
            known = dict(zip(hits["path"].to_pylist(), hits["work_id"].to_pylist(), strict=True))
            for index, path, page in on_portal:
                found[index] = known.get(path, known.get(page) if page else None)
        return found


def snapshot_write(directory: Path) -> Snapshot:
    """Write the public registry's digests, paths and publications under `directory`."""

    directory.mkdir(parents=True, exist_ok=True)
    public = Work.objects.public()
    sha, sha_work = [], []
    for digest, work_id in (
        WorkDigest.objects.filter(work__in=public)
        .values_list("sha256", "work_id")
        .iterator(chunk_size=20_000)
    ):
        sha.append(digest)
        sha_work.append(work_id)
    paths, path_work = [], []
    media = settings.MEDIA_URL
    for pk, preview, thumbnail in public.values_list("pk", "preview", "thumbnail").iterator(
        chunk_size=20_000
    ):
        paths.append(f"/works/{pk}")
        path_work.append(pk)
        for name in (preview, thumbnail):
            if name:
                paths.append(f"{media}{name}")
                path_work.append(pk)
    keys, key_work = [], []
    for key, work_id in WorkPublication.objects.filter(work__in=public).values_list("key", "work_id"):
        keys.append(key)
        key_work.append(work_id)
    hosts = sorted(portal_hosts())
    pq.write_table(
        pa.table({"sha256": pa.array(sha, pa.string()), "work_id": pa.array(sha_work, pa.int64())}),
        directory / "digests.parquet",
    )
    pq.write_table(
        pa.table(
            {
                "path": pa.array(paths, pa.string()),
                "work_id": pa.array(path_work, pa.int64()),
            }
        ),
        directory / "paths.parquet",
    )
    pq.write_table(
        pa.table(
            {
                "key": pa.array(keys, pa.string()),
                "loose": pa.array([loose_of_key(k) for k in keys], pa.string()),
                "work_id": pa.array(key_work, pa.int64()),
            }
        ),
        directory / "publications.parquet",
    )
    pq.write_table(pa.table({"host": pa.array(hosts, pa.string())}), directory / "hosts.parquet")
    return Snapshot(
        path=directory, hosts=hosts, works=len(set(sha_work)), digests=len(sha), publications=len(keys)
    )
