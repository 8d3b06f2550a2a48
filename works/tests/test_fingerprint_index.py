import pytest

from tests.fixtures.images import make_image
from works import services
from works.fingerprint_index import FingerprintIndex, _index, fingerprint_index
from works.fingerprints import pdq_distance

pytestmark = pytest.mark.anvil


def test_search_returns_only_hashes_within_the_radius():
    index = FingerprintIndex()
    base = "f" * 64
    near = "0" + "f" * 63  # 4 bits away
    far = "0" * 64  # 256 bits away
    index.add([1, 2, 3], [base, near, far])
    assert index.search(base, radius=31) == [(1, 0), (2, 4)]
    assert pdq_distance(base, near) == 4
    index.remove([2])
    assert index.search(base, radius=31) == [(1, 0)]


def test_drafts_are_never_in_the_index(draft, creator):
    work = draft(seed=300)
    assert len(fingerprint_index()) == 0
    assert fingerprint_index().search(work.pdq, radius=0) == []


def test_a_fresh_process_replays_the_log_and_follows_other_processes(register, creator, outsider):
    works = [register(creator, seed=s) for s in (301, 302)]
    _index.reset()  # a fresh process
    assert len(fingerprint_index()) == 2
    assert fingerprint_index().search(works[1].pdq, radius=0) == [(works[1].pk, 0)]
    register(creator, seed=303)
    assert len(fingerprint_index()) == 3  # another process's registration is seen on the next query


def test_held_works_stay_out_until_released_and_rejected_ones_never_enter(register, creator, outsider):
    original = register(creator, seed=304)
    held = register(outsider, seed=304, title="Copy")
    assert held.registration.status == "held"
    assert [pk for pk, _ in fingerprint_index().search(original.pdq, radius=0)] == [original.pk]
    services.registration_release(registration=held.registration)
    assert {pk for pk, _ in fingerprint_index().search(original.pdq, radius=0)} == {original.pk, held.pk}

    # another copy (the same file twice would open the first upload instead)
    another = register(outsider, seed=304, title="Another copy", image=make_image(seed=304, quality=60))
    services.registration_reject(registration=another.registration)
    assert another.pk not in {pk for pk, _ in fingerprint_index().search(original.pdq, radius=0)}
    services.fingerprint_unpublish(work=held)
    _index.reset()
    assert {pk for pk, _ in fingerprint_index().search(original.pdq, radius=0)} == {original.pk}


def _flipped(value: str, bits: list[int]) -> str:
    number = int(value, 16)
    for bit in bits:
        number ^= 1 << bit
    return number.to_bytes(32, "big").hex()


def test_the_multi_index_hash_finds_what_the_exact_scan_finds_within_15_bits_and_forgets_removed_works(
    monkeypatch,
):
    """From HASHED_FROM entries the manifest check's search uses the multi-index hash: every
    entry within 15 bits is found (16 chunks: one is untouched), the same as the exact scan;
    a removed work is never returned, and a work re-added with a new hash only under the new."""
    import random

    from works import fingerprint_index as module

    monkeypatch.setattr(module, "HASHED_FROM", 0)
    rng = random.Random(5)
    hashes = [rng.getrandbits(256).to_bytes(32, "big").hex() for _ in range(3000)]
    index = FingerprintIndex()
    index.add(list(range(1, 1501)), hashes[:1500], crops=hashes[1500:])
    queries = [_flipped(hashes[i], rng.sample(range(256), i % 16)) for i in range(0, 3000, 3)]
    assert index.search_many(queries, radius=31) == index.search_many(queries, radius=31, exact=True)
    assert index.hashed is not None and index.hashed.ntotal == 3000  # built on that first search

    far = [_flipped(hashes[i], rng.sample(range(256), 31)) for i in range(0, 1500, 5)]
    exact = index.search_many(far, radius=31, exact=True)
    hashed = index.search_many(far, radius=31)
    assert all(set(hashed[q]) <= set(exact[q]) for q in far)  # never a match the exact scan lacks

    index.remove([1, 2])
    assert index.search(hashes[0], radius=31) == [] and index.search(hashes[1501], radius=31) == []
    fresh = rng.getrandbits(256).to_bytes(32, "big").hex()
    index.add([1], [fresh])  # back, with another hash
    assert index.search(hashes[0], radius=31) == [] and index.search(fresh, radius=31) == [(1, 0)]
    assert index.search(hashes[2], radius=0) == [(3, 0)]  # untouched works are still there


def test_the_multi_index_hash_is_searched_on_a_thread_of_its_own_made_again_after_a_fork(monkeypatch):
    """The searches run on one thread per process (not the caller's: the thread whose malloc
    arena built the hash serves the search's allocations 2.5 times slower); a process forked
    from one that had the thread makes its own instead of waiting on a thread it does not have."""
    import os
    import threading

    from works import fingerprint_index as module

    monkeypatch.setattr(module, "_searcher", None)
    where = []
    module._on_search_thread(lambda: where.append(threading.current_thread()))
    module._on_search_thread(lambda: where.append(threading.current_thread()))
    assert where[0] is where[1] and where[0] is not threading.current_thread()
    assert where[0].name.startswith("pdq-search")

    first = module._searcher[1]
    monkeypatch.setattr(module, "_searcher", (os.getpid() + 1, first))  # as a forked child sees it
    assert module._on_search_thread(lambda: threading.current_thread()) is not where[0]
    assert module._searcher[0] == os.getpid() and module._searcher[1] is not first
    module._searcher[1].shutdown()
    first.shutdown()
