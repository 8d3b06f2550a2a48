"""The ledger asks licensing for the sale behind a Credited event only through ROYALTIES_HOOKS."""

import pytest
from django.conf import settings
from django.utils.module_loading import import_string

from royalties import hooks


def test_the_hook_names_licensings_selector():
    assert set(settings.ROYALTIES_HOOKS) == {"sale_for_quote"}
    assert callable(import_string(settings.ROYALTIES_HOOKS["sale_for_quote"]))


@pytest.mark.django_db
def test_an_unknown_quote_is_no_sale_and_no_hook_is_no_sale(settings):
    assert hooks.sale_for_quote(quote_id="0x" + "ab" * 32) is None
    settings.ROYALTIES_HOOKS = {}
    assert hooks.sale_for_quote(quote_id="0x" + "ab" * 32) is None
