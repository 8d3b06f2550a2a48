"""Roles in a creator's words, on the earnings page, the CSV, split sheets and work pages."""

import pytest

from royalties.roles import role_words


@pytest.mark.parametrize(
    "role,party,words",
    [
        ("creator", "", "Creator"),
        ("co_creator", "colourist", "Co-creator: colourist"),
        ("upstream", "Evening lake", "Creator of the original, “Evening lake”"),
        ("upstream_co_creator", "inker", "Co-creator of the original: inker"),
        ("platform", "", "Platform fee"),
        ("something_new", "", "Something new"),
    ],
)
def test_roles_read_as_words(role, party, words):
    assert role_words(role, party) == words
    assert "_" not in role_words(role, party)
