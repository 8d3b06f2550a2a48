"""Expiries are written in the chain's clock (core/chain/clock.py): a chain two hours ahead of
this server still accepts a quote or a settlement the portal just signed."""

import pytest

from core.chain.clock import chain_clock_forget, chain_now
from licensing.models import Licence
from licensing.tests.helpers import buy, fund, offered_work

pytestmark = pytest.mark.anvil
TWO_HOURS = 2 * 3600


def _move_ahead(w3, seconds):
    w3.provider.make_request("evm_increaseTime", [seconds])
    w3.provider.make_request("evm_mine", [])
    chain_clock_forget()


def test_a_quote_signed_for_a_chain_ahead_of_the_server_can_be_paid(private_chain, creator, buyer, settings):
    import time

    w3 = private_chain
    fund(w3, buyer.address)
    _, offer = offered_work(creator, w3=w3, seed=3300)
    _move_ahead(w3, TWO_HOURS)
    assert chain_now(w3) - time.time() > TWO_HOURS - 60
    quote, receipt = buy(w3, offer, buyer)
    assert quote.expiry >= w3.eth.get_block("latest")["timestamp"] + settings.QUOTE_TTL_SECONDS - 5
    assert receipt.status == 1 and Licence.objects.filter(quote=quote).exists()


def test_a_settlement_for_a_chain_ahead_is_payable_and_expires_by_its_clock(
    private_chain, creator, org, ai_company, settings
):
    from licensing.tests.helpers import send_tx
    from royalties.settlement import SettlementError, settlement_transaction
    from training import services as training

    w3 = private_chain
    fund(w3, ai_company.address)
    work, _ = offered_work(creator, w3=w3, seed=3301, preset="ai_training")
    _move_ahead(w3, TWO_HOURS)
    settlement, _ = training.training_quote(
        org=org, purpose="training", model_name="m", buyer_address=None, work_ids=[work.pk]
    )
    receipt = send_tx(w3, ai_company.account, settlement_transaction(settlement=settlement, w3=w3))
    assert receipt.status == 1
    late, _ = training.training_quote(
        org=org, purpose="generative_training", model_name="m", buyer_address=None, work_ids=[work.pk]
    )
    _move_ahead(w3, settings.QUOTE_TTL_SECONDS + 10)  # past its expiry by the chain's clock only
    with pytest.raises(SettlementError, match="expired"):
        settlement_transaction(settlement=late, w3=w3)
