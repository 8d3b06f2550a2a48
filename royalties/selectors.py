"""Reads for royalties."""


def accepted_sheet_parties(*, work) -> list[tuple[str, int, str]]:
    """(address, bps, role) of the co-creators on the work's accepted split sheet."""
    return []


def upstream_shares(*, work) -> list[tuple[object, int]]:
    """(ancestor, bps) pairs of the derivative revenue shares owed up the work's tree."""
    return []
