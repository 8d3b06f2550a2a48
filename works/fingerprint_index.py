"""Near-duplicate search over the PDQ hashes of public works, with faiss.

One binary index per process. It holds only public works (signed, not held, rejected or
revoked): it replays `FingerprintChange`, the append-only log that the services write whenever
a work becomes public or stops being so, from the last row it applied. IndexBinaryFlat is
exact; at 1M works it answers ~300 queries/s on one core here (bench/fingerprint.py).
"""

import threading

import faiss
import numpy as np

from works.fingerprints import PDQ_BITS

BATCH = 100_000


class FingerprintIndex:
    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        self.index = faiss.IndexBinaryIDMap(faiss.IndexBinaryFlat(PDQ_BITS))
        self.members: set[int] = set()
        self.last_change = 0

    def __len__(self):
        return self.index.ntotal

    def add(self, ids: list[int], hashes: list[str]):
        fresh = list({i: h for i, h in zip(ids, hashes, strict=True) if i not in self.members}.items())
        if not fresh:
            return
        codes = np.frombuffer(b"".join(bytes.fromhex(h) for _, h in fresh), dtype=np.uint8).reshape(
            len(fresh), -1
        )
        self.index.add_with_ids(codes, np.asarray([i for i, _ in fresh], dtype=np.int64))
        self.members.update(i for i, _ in fresh)

    def remove(self, ids: list[int]):
        gone = [i for i in ids if i in self.members]
        if gone:
            self.index.remove_ids(np.asarray(gone, dtype=np.int64))
            self.members.difference_update(gone)

    def search(self, pdq_hex: str, *, radius: int) -> list[tuple[int, int]]:
        """(work id, distance) pairs within `radius` bits, nearest first (all of them)."""
        if self.index.ntotal == 0:
            return []
        query = np.frombuffer(bytes.fromhex(pdq_hex), dtype=np.uint8).reshape(1, -1)
        # range_search's bound is exclusive: radius + 1 keeps "within radius" inclusive.
        _, distances, ids = self.index.range_search(query, radius + 1)
        return sorted(
            ((int(i), int(d)) for d, i in zip(distances, ids, strict=True)), key=lambda m: (m[1], m[0])
        )

    def search_many(self, pdqs: list[str], *, radius: int) -> dict[str, list[tuple[int, int]]]:
        """Batched search (faiss spreads the queries over the cores): pdq -> (work id, distance)
        pairs within `radius`, nearest first."""
        unique = list(dict.fromkeys(pdqs))
        if not unique or self.index.ntotal == 0:
            return {p: [] for p in unique}
        queries = np.frombuffer(b"".join(bytes.fromhex(p) for p in unique), dtype=np.uint8).reshape(
            len(unique), -1
        )
        lims, distances, ids = self.index.range_search(queries, radius + 1)
        found = {}
        for n, pdq in enumerate(unique):
            pairs = zip(ids[lims[n] : lims[n + 1]], distances[lims[n] : lims[n + 1]], strict=True)
            found[pdq] = sorted(((int(i), int(d)) for i, d in pairs), key=lambda m: (m[1], m[0]))
        return found

    def catch_up(self):
        """Apply the changes logged since the last call (by any process)."""
        from works.models import FingerprintChange

        with self._lock:
            while True:
                rows = list(
                    FingerprintChange.objects.filter(pk__gt=self.last_change)
                    .order_by("pk")
                    .values_list("pk", "work_id", "pdq", "added")[:BATCH]
                )
                if not rows:
                    return
                # Apply in order, coalescing runs of additions for faiss.
                run_ids, run_hashes = [], []
                for _, work_id, pdq, added in rows:
                    if added:
                        run_ids.append(work_id)
                        run_hashes.append(pdq)
                        continue
                    self.add(run_ids, run_hashes)
                    run_ids, run_hashes = [], []
                    self.remove([work_id])
                self.add(run_ids, run_hashes)
                self.last_change = rows[-1][0]


_index = FingerprintIndex()


def fingerprint_index() -> FingerprintIndex:
    _index.catch_up()
    return _index
