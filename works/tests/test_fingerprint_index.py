import pytest

from conftest import make_image, upload_file
from works import services
from works.fingerprint_index import FingerprintIndex, _index, fingerprint_index
from works.fingerprints import pdq_distance


def test_search_returns_only_hashes_within_the_radius():
    index = FingerprintIndex()
    base = "f" * 64
    near = "0" + "f" * 63  # 4 bits away
    far = "0" * 64  # 256 bits away
    index.add([1, 2, 3], [base, near, far])
    assert index.search(base, radius=31) == [(1, 0), (2, 4)]
    assert pdq_distance(base, near) == 4


@pytest.mark.django_db
def test_the_index_is_rebuilt_from_the_database_and_catches_up(creator):
    works = [
        services.work_upload(
            user=creator.user,
            creator_address=creator.address,
            file=upload_file(make_image(seed=s)),
            title=str(s),
        )
        for s in (300, 301)
    ]
    _index.reset()  # a fresh process
    assert len(fingerprint_index()) == 2
    assert fingerprint_index().search(works[1].pdq, radius=0) == [(works[1].pk, 0)]
    services.work_upload(
        user=creator.user, creator_address=creator.address, file=upload_file(make_image(seed=302)), title="3"
    )
    assert len(fingerprint_index()) == 3  # another process's registration is seen on the next query
