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
