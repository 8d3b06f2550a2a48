"""Task conventions.

- Beat ticks (`tick_task`) never retry: the next tick is the retry. A chain that cannot be asked
  is logged and the tick returns; nothing is half-done because every service they call claims
  its work with conditional updates.
- Tasks that carry ids (`chain_task`) retry with exponential backoff, a bounded number of times,
  when the chain cannot be asked.
"""

import functools
import logging
import os

from celery import shared_task

from portal.errors import CHAIN_ERRORS

logger = logging.getLogger(__name__)

CHAIN_TASK_OPTIONS = {
    "autoretry_for": CHAIN_ERRORS,
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 12,
    "ignore_result": True,
}


def tick_task(name: str):
    """A beat task: runs its body; a chain that is down is logged, not retried."""

    def decorate(body):
        @functools.wraps(body)
        def run(*args, **kwargs):
            try:
                return body(*args, **kwargs)
            except CHAIN_ERRORS as exc:
                logger.warning("%s skipped this tick: the chain cannot be asked (%s)", name, exc)
                return {"skipped": str(exc)}

        return shared_task(name=name, ignore_result=True, max_retries=0)(run)

    return decorate


@shared_task(name="portal.ping")
def ping(payload: str = "pong") -> dict:
    """Round-trip check for the worker: echoes its input and says who ran it."""
    return {"echo": payload, "pid": os.getpid()}
