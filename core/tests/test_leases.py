"""Leases (core/leases.py): who holds a piece of work and until when; ticks hold one each."""

import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from core.leases import (
    holder_is_dead,
    holder_name,
    lease_acquire,
    lease_release,
    lease_renew,
)
from core.models import Lease

pytestmark = pytest.mark.django_db


def test_one_holder_at_a_time_until_its_lease_runs_out():
    assert lease_acquire("job", seconds=60, holder="host-a:1")
    assert not lease_acquire("job", seconds=60, holder="host-b:2")
    assert lease_acquire("job", seconds=60, holder="host-a:1")  # the holder may ask again
    Lease.objects.filter(name="job").update(until=timezone.now() - timedelta(seconds=1))
    assert lease_acquire("job", seconds=60, holder="host-b:2")  # a presumed crash: taken over
    row = Lease.objects.get(name="job")
    assert row.holder == "host-b:2" and row.times_taken_over == 1 and row.times_acquired == 3


def test_renew_keeps_it_and_release_frees_it():
    assert lease_acquire("job", seconds=1, holder="host-a:1")
    assert lease_renew("job", seconds=60, holder="host-a:1")
    assert not lease_renew("job", seconds=60, holder="host-b:2")
    lease_release("job", holder="host-a:1")
    assert lease_acquire("job", seconds=60, holder="host-b:2")
    assert Lease.objects.get(name="job").times_taken_over == 0  # released, not taken over


def test_a_dead_process_on_this_machine_loses_its_lease_at_once():
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead = holder_name().rsplit(":", 1)[0] + ":" + gone.stdout.strip()
    assert holder_is_dead(dead) and holder_is_dead("w1@" + dead)
    assert not holder_is_dead(holder_name()) and not holder_is_dead("elsewhere:1")
    assert lease_acquire("job", seconds=600, holder=dead)
    assert lease_acquire("job", seconds=60)  # no need to wait ten minutes
    assert Lease.objects.get(name="job").times_taken_over == 1


def test_a_tick_runs_under_its_lease_and_a_second_copy_skips():
    from core.tasks import tick_task

    seen = []

    @tick_task("tests.lease_tick")
    def tick():
        seen.append(Lease.objects.get(name="tick:tests.lease_tick").holder)
        return {"ran": True}

    assert lease_acquire("tick:tests.lease_tick", seconds=60, holder="other-host:7")  # running there
    assert tick.apply().get() == {"skipped": "already running"} and seen == []
    lease_release("tick:tests.lease_tick", holder="other-host:7")
    assert tick.apply().get() == {"ran": True} and seen == [holder_name()]
    row = Lease.objects.get(name="tick:tests.lease_tick")
    assert row.holder == "" and row.times_acquired == 2  # released when it finished
