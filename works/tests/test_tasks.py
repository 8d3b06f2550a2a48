"""The beat tasks are thin: ids in (none here), one service call, retries on a dead node."""

import pytest

from portal.chain.anvil import free_port
from works.tasks import anchor_tick


@pytest.mark.django_db
def test_a_dead_node_raises_an_error_the_task_retries_on(settings, creator):
    from conftest import make_image, upload_file
    from works import services
    from works.models import Registration

    work = services.work_upload(
        user=creator.user, creator_address=creator.address, file=upload_file(make_image(seed=951)), title="x"
    )
    Registration.objects.filter(work=work).update(
        status="pending", signature="0x" + "11" * 65, signed_at=None
    )
    settings.CHAIN_RPC_URL = f"http://127.0.0.1:{free_port()}"
    settings.ANCHOR_BATCH_MAX = 1  # seal now: this touches the (dead) node

    # (Eager mode would retry forever in-process; check the error is one the task retries on.)
    with pytest.raises(anchor_tick.autoretry_for):
        anchor_tick.run()
    assert anchor_tick.max_retries is None and anchor_tick.retry_backoff
    assert Registration.objects.get().status == "pending"  # nothing lost, nothing half-done


@pytest.mark.anvil
def test_anchor_tick_runs_the_service(chain, creator):
    from works.models import Registration
    from works.tests.test_anchoring import register

    register(creator, seed=950, w3=chain)
    result = anchor_tick.run()
    assert set(result) == {"sealed", "sent", "refreshed"}
    assert Registration.objects.get().status in ("pending", "sent", "mined")
