"""Near-duplicate search over the PDQ hashes of public works, with faiss.

One binary index per process. It holds only public works (signed, not held, rejected or
revoked): it replays `FingerprintChange`, the append-only log that the services write whenever
a work becomes public or stops being so, from the last row it applied.

Two faiss indexes: `index` holds each work's PDQ hash (id `work << 1`) and the hash of its centre
with a few percent cut off (`work << 1 | 1`), what a hash alone (the manifest check) is compared
with; `windows` holds the hashes of more windows of it (`works.matching.WORK_WINDOWS`, id
`work << 4 | slot`, slots from 2), which the matcher (`works.matching.find`) searches as well, so a
copy cropped from one side or to its centre is near one of them. IndexBinaryFlat is exact;
batched range search at 1M entries answers ~1,300 queries/s on 2 cores here (bench/fingerprint.py).

The manifest check asks `index` for thousands of hashes at a time (`search_many`). Once it holds
HASHED_FROM entries, those searches go through a multi-index hash of the same entries instead
(faiss IndexBinaryMultiHash: the 256 bits cut into 16 chunks of 16, an entry a candidate when
one chunk is equal, then its whole distance checked): by the pigeonhole principle every entry
within 15 bits is found, and farther ones when one chunk escaped the edit. On 1M works (2M
entries), 10k hashes of edited copies 0-31 bits away: 0.993 of the exact scan's matches, the
whole API request at ~33,000 items/s against the exact scan's 1,500-1,700 (bench/manifest_check.py,
`pdq_recall_vs_exact`); built in ~4.5 s, ~290 MB. It is built on the first such search, so
processes that never answer one never hold it, and searched on a thread of its own
(`_on_search_thread`).
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import faiss
import numpy as np

from works.fingerprints import PDQ_BITS

BATCH = 100_000
SLOTS = 16  # window ids are `work << 4 | slot`: at most 16 windows per work
HASHED_FROM = 200_000  # entries of `index` from which search_many uses the multi-index hash
HASH_CHUNKS, CHUNK_BITS = 16, 16


_searcher: tuple[int, ThreadPoolExecutor] | None = None


def _on_search_thread(search, *args):
    """Run a multi-index hash search on this process's search thread. The search allocates a
    little for every candidate; glibc's malloc serves that from the calling thread's arena, and
    the arena that built the hash (millions of small blocks) serves it 2.5 times slower than a
    clean one: 10k queries against 2M entries took 0.75-0.9 s on the building thread and 0.28-0.37 s
    on another one (perf: _int_malloc 23% of the time against 2.5%), whichever thread builds
    (a request thread, a Celery worker's main thread). Made after a fork, never before."""
    global _searcher
    if _searcher is None or _searcher[0] != os.getpid():
        _searcher = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="pdq-search"))
    return _searcher[1].submit(search, *args).result()


def _codes(hashes: list[str]) -> np.ndarray:
    return np.frombuffer(b"".join(bytes.fromhex(h) for h in hashes), dtype=np.uint8).reshape(len(hashes), -1)


def _add(index, entries: list[tuple[int, str]]) -> None:
    if entries:
        index.add_with_ids(
            _codes([h for _, h in entries]), np.asarray([e for e, _ in entries], dtype=np.int64)
        )


class FingerprintIndex:
    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        self.index = faiss.IndexBinaryIDMap(faiss.IndexBinaryFlat(PDQ_BITS))
        self.windows = faiss.IndexBinaryIDMap(faiss.IndexBinaryFlat(PDQ_BITS))
        self.members: set[int] = set()
        self.last_change = 0
        self._drop_hashed()

    def _drop_hashed(self):
        self.hashed = None  # IndexBinaryMultiHash over `index`'s entries, built when first needed
        self.hashed_entries = np.zeros(0, dtype=np.int64)  # its sequential id -> entry id
        self.hashed_live = np.zeros(0, dtype=bool)  # False: removed since (faiss cannot remove)

    def _hashed_add(self, entries: list[tuple[int, str]]) -> None:
        if self.hashed is None or not entries:
            return
        self.hashed.add(_codes([h for _, h in entries]))
        self.hashed_entries = np.concatenate([self.hashed_entries, [e for e, _ in entries]])
        self.hashed_live = np.concatenate([self.hashed_live, np.ones(len(entries), dtype=bool)])

    def hashed_index(self):
        """The multi-index hash of `index`'s entries (built from the exact index's codes)."""
        with self._lock:
            return self._hashed_built()

    def _hashed_built(self):
        """hashed_index, the lock held: catch_up's additions and other threads' searches wait."""
        if self.hashed is None:
            hashed = faiss.IndexBinaryMultiHash(PDQ_BITS, HASH_CHUNKS, CHUNK_BITS)
            hashed.nflip = 0
            flat = faiss.downcast_IndexBinary(self.index.index)
            codes = faiss.vector_to_array(flat.xb).reshape(-1, PDQ_BITS // 8)
            hashed.add(codes)
            self.hashed = hashed
            self.hashed_entries = faiss.vector_to_array(self.index.id_map).astype(np.int64)
            self.hashed_live = np.ones(len(self.hashed_entries), dtype=bool)
        return self.hashed

    def __len__(self):
        """Works in the index."""
        return len(self.members)

    def add(
        self,
        ids: list[int],
        hashes: list[str],
        crops: list[str] | None = None,
        windows: list[list[str]] | None = None,
    ):
        """Works with their PDQ hash, centre-crop hash and window hashes (slot 2 on; "" for a
        window without enough detail)."""
        crops = crops or [""] * len(ids)
        windows = windows or [[] for _ in ids]
        fresh = {
            i: (h, c, w)
            for i, h, c, w in zip(ids, hashes, crops, windows, strict=True)
            if i not in self.members
        }
        if not fresh:
            return
        entries = [(i << 1, h) for i, (h, _, _) in fresh.items()]
        entries += [(i << 1 | 1, c) for i, (_, c, _) in fresh.items() if c]
        _add(self.index, entries)
        self._hashed_add(entries)
        _add(
            self.windows,
            [(i << 4 | slot, h) for i, (_, _, w) in fresh.items() for slot, h in enumerate(w, start=2) if h],
        )
        self.members.update(fresh)

    def remove(self, ids: list[int]):
        gone = [i for i in ids if i in self.members]
        if gone:
            self.index.remove_ids(np.asarray([e for i in gone for e in (i << 1, i << 1 | 1)], dtype=np.int64))
            if self.hashed is not None:
                self.hashed_live[np.isin(self.hashed_entries >> 1, np.asarray(gone, dtype=np.int64))] = False
            self.windows.remove_ids(
                np.asarray([i << 4 | slot for i in gone for slot in range(2, SLOTS)], dtype=np.int64)
            )
            self.members.difference_update(gone)

    def search(self, pdq_hex: str, *, radius: int) -> list[tuple[int, int]]:
        """(work id, distance) pairs within `radius` bits, nearest first (all of them)."""
        return self.search_many([pdq_hex], radius=radius)[pdq_hex]

    def search_many(
        self, pdqs: list[str], *, radius: int, exact: bool = False
    ) -> dict[str, list[tuple[int, int]]]:
        """Batched search (faiss spreads the queries over the cores): pdq -> (work id, distance)
        pairs within `radius`, nearest first, one per work. From HASHED_FROM entries on, through
        the multi-index hash unless `exact` (see the module's docstring)."""
        unique = list(dict.fromkeys(pdqs))
        if not unique or self.index.ntotal == 0:
            return {p: [] for p in unique}
        # range_search's bound is exclusive: radius + 1 keeps "within radius" inclusive.
        if exact or self.index.ntotal < HASHED_FROM:
            lims, distances, ids = self.index.range_search(_codes(unique), radius + 1)
        else:
            with self._lock:  # a web process's threads share it; catch_up adds under the lock
                hashed = self._hashed_built()
                lims, distances, internal = _on_search_thread(hashed.range_search, _codes(unique), radius + 1)
                ids = np.where(self.hashed_live[internal], self.hashed_entries[internal], -1)
        found = {}
        for n, pdq in enumerate(unique):
            best: dict[int, int] = {}
            for entry, distance in zip(
                ids[lims[n] : lims[n + 1]], distances[lims[n] : lims[n + 1]], strict=True
            ):
                if entry < 0:  # removed since the hash was built
                    continue
                work = int(entry) >> 1
                if work not in best or distance < best[work]:
                    best[work] = int(distance)
            found[pdq] = sorted(best.items(), key=lambda m: (m[1], m[0]))
        return found

    def search_slots(self, pdqs: list[str], *, radius: int) -> dict[str, list[tuple[int, int, int]]]:
        """Batched search of both indexes: pdq -> (work id, slot, distance) for every entry within
        `radius` (slot 0 the whole picture, 1 its centre, 2 on its windows)."""
        unique = list(dict.fromkeys(pdqs))
        found: dict[str, list[tuple[int, int, int]]] = {p: [] for p in unique}
        if not unique:
            return found
        codes = _codes(unique)
        for index, shift in ((self.index, 1), (self.windows, 4)):
            if index.ntotal == 0:
                continue
            lims, distances, ids = index.range_search(codes, radius + 1)
            for n, pdq in enumerate(unique):
                for entry, distance in zip(
                    ids[lims[n] : lims[n + 1]], distances[lims[n] : lims[n + 1]], strict=True
                ):
                    entry = int(entry)
                    found[pdq].append((entry >> shift, entry & ((1 << shift) - 1), int(distance)))
        return found

    def catch_up(self):
        """Apply the changes logged since the last call (by any process)."""
        from works.models import FingerprintChange

        with self._lock:
            while True:
                rows = list(
                    FingerprintChange.objects.filter(pk__gt=self.last_change)
                    .order_by("pk")
                    .values_list("pk", "work_id", "pdq", "pdq_crop", "pdq_windows", "added")[:BATCH]
                )
                if not rows:
                    return
                # Apply in order, coalescing runs of additions for faiss.
                run: tuple[list, list, list, list] = ([], [], [], [])
                for _, work_id, pdq, crop, windows, added in rows:
                    if added:
                        if work_id in self.members and (crop or windows):
                            # backfilled hashes for a work already indexed: re-add it
                            self.add(*run)
                            run = ([], [], [], [])
                            self.remove([work_id])
                        for column, value in zip(
                            run, (work_id, pdq, crop, windows.split(",") if windows else []), strict=True
                        ):
                            column.append(value)
                        continue
                    self.add(*run)
                    run = ([], [], [], [])
                    self.remove([work_id])
                self.add(*run)
                self.last_change = rows[-1][0]


_index = FingerprintIndex()


def fingerprint_index() -> FingerprintIndex:
    _index.catch_up()
    return _index
