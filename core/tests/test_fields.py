"""WeiField keeps every wei on the database in use (SQLite here, PostgreSQL in CI)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from core.fields import wei_sum
from licensing.models import LicenceTerms

pytestmark = pytest.mark.django_db


def _terms(fee, tag):
    return LicenceTerms.objects.create(
        terms_hash=f"0x{tag}",
        canonical_json="{}",
        commercial_use=False,
        derivatives_allowed=False,
        ai_training="prohibited",
        genai_training="prohibited",
        fee_wei=fee,
    )


class TestWeiRoundTrip(HypothesisTestCase):
    @settings(max_examples=60, deadline=None)
    @given(st.integers(min_value=0, max_value=2**256 - 1))
    def test_any_uint256_comes_back_exactly(self, wei):
        row = _terms(wei, "a")
        assert LicenceTerms.objects.get(pk=row.pk).fee_wei == wei
        assert LicenceTerms.objects.filter(fee_wei=wei).count() == 1
        row.delete()


def test_the_values_sqlite_used_to_round_come_back_exactly():
    for i, wei in enumerate([10**16 + 1, 12345678901234567890123, 2**255 + 7]):
        _terms(wei, f"b{i}")
    assert sorted(LicenceTerms.objects.values_list("fee_wei", flat=True)) == [
        10**16 + 1,
        12345678901234567890123,
        2**255 + 7,
    ]


def test_ordering_and_ranges_are_numeric_and_sums_exact():
    values = [5, 10**18, 999, 10**25 + 3, 0]
    for i, wei in enumerate(values):
        _terms(wei, f"c{i}")
    assert list(LicenceTerms.objects.order_by("fee_wei").values_list("fee_wei", flat=True)) == sorted(values)
    assert set(
        LicenceTerms.objects.filter(fee_wei__gt=999, fee_wei__lte=10**18).values_list("fee_wei", flat=True)
    ) == {10**18}
    assert wei_sum(LicenceTerms.objects.all(), "fee_wei") == sum(values)


@given(st.integers(min_value=-(2**256), max_value=2**256), st.integers(min_value=-(2**256), max_value=2**256))
def test_the_sqlite_text_of_an_amount_sorts_as_the_number(a, b):
    from core.fields import _from_sqlite_text, sqlite_text

    assert (sqlite_text(a) < sqlite_text(b)) == (a < b)
    assert _from_sqlite_text(sqlite_text(a)) == a
