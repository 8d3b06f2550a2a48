"""The training services' pure helpers."""

from training.services import normalise_hashes

H = "ab" * 32


def test_normalise_hashes_passes_hashes_as_sent_and_repairs_or_drops_the_rest():
    assert normalise_hashes([H, None, H]) == [H, None, H]
    assert normalise_hashes([H, "0x" + H.upper(), None]) == [H, H, None]
    assert normalise_hashes([H, "zz" * 32, 7, ""]) == [H, None, None, None]
    assert normalise_hashes([H, H[:-1] + "g"]) == [H, None]
    assert normalise_hashes([]) == []
