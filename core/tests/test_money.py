"""Amounts are integers from the form to the screen, the certificate and the file: no floats,
no Decimal context rounding."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import ERR_AMOUNT, ERR_TOO_LARGE, MAX_WEI, eth_to_wei, format_eth, wei_to_eth
from licensing.terms import Terms


@given(st.integers(min_value=0, max_value=MAX_WEI))
def test_formatting_then_parsing_gives_back_every_wei(wei):
    assert eth_to_wei(wei_to_eth(wei)) == wei


@given(st.integers(min_value=0, max_value=10**30), st.integers(min_value=0, max_value=10**18 - 1))
def test_parsing_is_exact_for_any_whole_and_fraction(whole, frac):
    text = f"{whole}.{frac:018d}"
    assert eth_to_wei(text) == whole * 10**18 + frac


def test_the_examples_the_review_found():
    assert eth_to_wei("12345678901.123456789012345679") == 12345678901123456789012345679
    assert format_eth(1) == "0.000000000000000001 ETH"
    assert format_eth(999_999_999_999) == "0.000000999999999999 ETH"
    line = Terms(ai_training="paid", ai_training_price_wei=1).plain_language()[2]
    assert line == "AI training: allowed for a fee of 0.000000000000000001 ETH per work."


@pytest.mark.parametrize(
    "text", ["", ".", "-1", "1e-3", "0x10", "1.0000000000000000001", "1,5", "nan", "inf"]
)
def test_what_is_not_an_amount_is_refused_with_a_message(text):
    with pytest.raises(ValueError, match="Enter an amount in ETH"):
        eth_to_wei(text)
    assert ERR_AMOUNT.startswith("Enter an amount")


def test_trailing_zeros_beyond_18_places_are_harmless_and_huge_amounts_refused():
    assert eth_to_wei("0.1000000000000000000000") == 10**17
    with pytest.raises(ValueError, match=ERR_TOO_LARGE):
        eth_to_wei(str(2**256))


def test_a_float_never_gets_in():
    with pytest.raises(ValueError):
        eth_to_wei(0.1)
