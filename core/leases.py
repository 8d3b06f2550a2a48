"""Leases: work is leased, not assumed.

`lease_acquire(name, seconds)` claims a named piece of work for this process with one
conditional update: it succeeds when nobody holds it, when the holder's lease ran out (the
holder is presumed dead; `times_taken_over` counts those), or when this process already holds
it. The holder renews while it works and releases when done. Beat ticks hold one lease per tick
(`core.tasks.tick_task`): overlapping ticks skip instead of doing the same work twice, and a
tick whose worker was killed is run by the next beat once its lease has run out.
"""

import os
import socket
from contextlib import contextmanager
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from core.models import Lease


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def holder_is_dead(holder: str) -> bool:
    """A holder on this machine whose process is gone (SIGKILL, OOM): no need to wait for its
    lease to run out. Holders elsewhere are never presumed dead before their lease ends."""
    host, _, pid = (holder or "").rpartition(":")
    host = host.rpartition("@")[2]  # a Celery node name, "worker1@host", names its host last
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def lease_acquire(name: str, *, seconds: float, holder: str | None = None) -> bool:
    holder = holder or holder_name()
    now = timezone.now()
    until = now + timedelta(seconds=seconds)
    try:
        with transaction.atomic():
            Lease.objects.create(
                name=name, holder=holder, until=until, acquired_at=now, renewed_at=now, times_acquired=1
            )
        return True
    except IntegrityError:  # it exists: take it if free, expired, or already ours
        pass
    current = Lease.objects.filter(name=name).values_list("holder", flat=True).first()
    dead = bool(current) and current != holder and holder_is_dead(current)
    taken_over = Lease.objects.filter(name=name).exclude(holder="").exclude(holder=holder)
    taken_over = taken_over.filter(holder=current) if dead else taken_over.filter(until__lt=now)
    if taken_over.update(
        holder=holder,
        until=until,
        acquired_at=now,
        renewed_at=now,
        times_acquired=F("times_acquired") + 1,
        times_taken_over=F("times_taken_over") + 1,
    ):
        return True
    return bool(
        Lease.objects.filter(name=name)
        .filter(Q(until__lt=now) | Q(holder=holder) | Q(holder=""))
        .update(
            holder=holder,
            until=until,
            acquired_at=now,
            renewed_at=now,
            times_acquired=F("times_acquired") + 1,
        )
    )


def lease_renew(name: str, *, seconds: float, holder: str | None = None) -> bool:
    """Extend our lease; False when it is no longer ours (someone took it over)."""
    now = timezone.now()
    return bool(
        Lease.objects.filter(name=name, holder=holder or holder_name()).update(
            until=now + timedelta(seconds=seconds), renewed_at=now
        )
    )


def lease_release(name: str, *, holder: str | None = None) -> None:
    Lease.objects.filter(name=name, holder=holder or holder_name()).update(holder="", until=timezone.now())


def lease_holder(name: str) -> Lease | None:
    return Lease.objects.filter(name=name).first()


class LeaseHeld(Exception):
    """Someone else holds the lease and it has not run out."""


@contextmanager
def leased(name: str, *, seconds: float):
    """Hold `name` for the block; raises LeaseHeld when another live process holds it."""
    holder = holder_name()
    if not lease_acquire(name, seconds=seconds, holder=holder):
        raise LeaseHeld(name)
    try:
        yield holder
    finally:
        lease_release(name, holder=holder)
