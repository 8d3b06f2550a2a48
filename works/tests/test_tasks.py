"""The beat task is thin and never retries: a dead node is logged, and the next tick does the
work."""

import pytest

from core.chain.anvil import free_port
from works.models import AnchorBatch, Registration
from works.tasks import anchor_tick

pytestmark = pytest.mark.anvil


def test_a_dead_node_skips_the_tick_and_the_next_tick_anchors(register, chain, creator, settings, caplog):
    work = register(creator, seed=951)
    settings.ANCHOR_BATCH_SECONDS = 0  # due now
    live = settings.CHAIN_RPC_URL
    settings.CHAIN_RPC_URL = f"http://127.0.0.1:{free_port()}"

    result = anchor_tick.apply().get()  # runs in-process; would raise if it retried

    assert "skipped" in result
    assert "anchor_tick skipped this tick" in caplog.text
    assert anchor_tick.max_retries == 0
    work.registration.refresh_from_db()
    assert work.registration.status == Registration.Status.PENDING  # nothing lost, nothing half-done
    assert AnchorBatch.objects.count() == 0

    settings.CHAIN_RPC_URL = live
    result = anchor_tick.apply().get()
    assert result["sealed"] == 1 and result["sent"] == 1
    # anvil mines the block just after it answers the send, so the receipt may come a tick later
    anchor_tick.apply().get()
    work.registration.refresh_from_db()
    assert work.registration.status == Registration.Status.MINED  # automined, awaiting confirmations
