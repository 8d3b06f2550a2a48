"""Which runs a training licence covers (training/model_scope.py), by the scope in its terms."""

import pytest

from licensing.terms import PRESETS, Terms
from training.model_scope import licence_covers


@pytest.mark.parametrize(
    "scope,licensed,asked,covered",
    [
        ("model", "m-1", "m-1", True),
        ("model", "m-1", " M-1 ", True),
        ("model", "m-1", "m-2", False),
        ("model", "m", "m-1", False),
        ("family", "painter", "painter", True),
        ("family", "painter", "painter-2", True),
        ("family", "painter", "Painter/XL", True),
        ("family", "painter", "painterly", False),
        ("family", "painter", "paint", False),
        ("organisation", "m-1", "anything", True),
        ("model", "m-1", None, True),
    ],
)
def test_a_licence_covers_what_its_scope_says(scope, licensed, asked, covered):
    assert licence_covers(scope=scope, licensed_model=licensed, model_name=asked) is covered


def test_terms_written_before_the_scope_existed_keep_their_hash():
    """The default scope is left out of the canonical form, so every stored terms hash stands."""
    terms = PRESETS["ai_training"][1]
    assert '"ai_model_scope"' not in terms.canonical()
    assert Terms.from_canonical(terms.canonical()) == terms
    wider = Terms(ai_model_scope="family")
    assert '"ai_model_scope":"family"' in wider.canonical() and wider.hash() != Terms().hash()
    assert Terms.from_canonical(wider.canonical()).ai_model_scope == "family"
