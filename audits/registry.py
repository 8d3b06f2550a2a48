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
import pyarrow.parquet as pq
from django.conf import settings

from works.models import Work, WorkDigest, WorkPublication
from works.publications import portal_hosts, url_key

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
    # loaded lazily for Python-side matching (shards)
    _sha: dict[str, int] | None = field(default=None, repr=False)
    _paths: dict[str, int] | None = field(default=None, repr=False)
    _publications: dict[str, int] | None = field(default=None, repr=False)
    _loose: set[str] | None = field(default=None, repr=False)
    _paths_loose: set[str] | None = field(default=None, repr=False)

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

    def _load(self):
        if self._sha is None:
            digests = pq.read_table(self.file("digests")).to_pydict()
            self._sha = dict(zip(digests["sha256"], digests["work_id"], strict=True))
            paths = pq.read_table(self.file("paths")).to_pydict()
            self._paths = dict(zip(paths["path"], paths["work_id"], strict=True))
            publications = pq.read_table(self.file("publications")).to_pydict()
            self._publications = dict(zip(publications["key"], publications["work_id"], strict=True))
            self._loose = set(publications["loose"])
            self._paths_loose = {p.lower() for p in self._paths}

    def loose_known(self, url: str | None) -> bool:
        """A cheap first test for a URL candidate: its loose key is a declared publication's, or it
        is on a portal host under a registered path."""
        if not url:
            return False
        self._load()
        loose = loose_key(url)
        if loose in self._loose:
            return True
        host, _, rest = loose.partition("/")
        if host not in self.hosts:
            return False
        path = "/" + rest
        return path in self._paths_loose or "/".join(path.split("/")[:3]) in self._paths_loose

    @property
    def work_ids(self) -> set[int]:
        self._load()
        return set(self._sha.values())

    def work_for_sha(self, sha: str | None) -> int | None:
        self._load()
        return self._sha.get((sha or "").lower()) if sha else None

    def work_for_url(self, url: str | None) -> int | None:
        """The public work an item's URL names, by its exact normalised key."""
        if not url:
            return None
        self._load()
        key = url_key(url)
        if key is None:
            return None
        if (work := self._publications.get(key)) is not None:
            return work
        host, _, rest = key.partition("/")
        if host not in self.hosts:
            return None
        path = "/" + rest.split("?", 1)[0]
        path = path.rstrip("/") or "/"
        work = self._paths.get(path)
        if work is None and path.startswith("/works/"):
            work = self._paths.get("/".join(path.split("/")[:3]))  # /works/<id>/anything
        return work


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
                "loose": pa.array([p.lower().rstrip("/") for p in paths], pa.string()),
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
