"""Subscribers used by the event tests: one that fails a set number of times, one that always
fails, and one that records what it saw."""

from django.db import IntegrityError

seen: list[str] = []
failures_left = {"count": 0}


def flaky(event):
    seen.append(f"flaky:{event.name}")
    if failures_left["count"] > 0:
        failures_left["count"] -= 1
        raise IntegrityError("duplicate key value violates unique constraint (simulated)")


def broken(event):
    raise RuntimeError("this subscriber is broken")


def record(event):
    seen.append(f"record:{event.name}:{event.generation}")


def record_undo(event):
    seen.append(f"undo:{event.name}:{event.generation}")


def flaky_ledger(event):
    """The real ledger handler, failing first while `failures_left` says so."""
    from royalties.handlers import on_market_event

    if failures_left["count"] > 0:
        failures_left["count"] -= 1
        raise IntegrityError("the ledger is failing for a while (simulated)")
    on_market_event(event)
