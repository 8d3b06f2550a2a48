"""Task conventions.

- Beat ticks (`tick_task`) never retry: the next tick is the retry. A chain that cannot be asked
  is logged and the tick returns; nothing is half-done because every service they call claims
  its work with conditional updates.
- Each tick holds a lease while it runs (core/leases.py, `TICK_LEASE_SECONDS`): a second copy
  of the same tick (a slow beat, two beats during a deploy) skips instead of doing the work
  twice, and a tick whose worker was killed is taken over by the next beat once its lease ran out.
- Tasks that carry ids (audit parts) lease their row the same way and are re-queued by their
  app's tick when the lease runs out (`audits.tick`).
"""

import functools
import logging
import os

from celery import shared_task
from django.conf import settings

from core.errors import CHAIN_ERRORS
from core.leases import LeaseHeld, lease_holder, leased

logger = logging.getLogger(__name__)


def tick_task(name: str):
    """A beat task: runs its body under the tick's lease; a chain that is down is logged, not
    retried; a tick already running elsewhere is skipped."""

    def decorate(body):
        @functools.wraps(body)
        def run(*args, **kwargs):
            try:
                with leased(f"tick:{name}", seconds=settings.TICK_LEASE_SECONDS):
                    return body(*args, **kwargs)
            except LeaseHeld:
                held = lease_holder(f"tick:{name}")
                logger.info("%s skipped: still running in %s", name, held.holder if held else "?")
                return {"skipped": "already running"}
            except CHAIN_ERRORS as exc:
                logger.warning("%s skipped this tick: the chain cannot be asked (%s)", name, exc)
                return {"skipped": str(exc)}

        return shared_task(name=name, ignore_result=True, max_retries=0)(run)

    return decorate


@shared_task(name="portal.ping")
def ping(payload: str = "pong") -> dict:
    """Round-trip check for the worker: echoes its input and says who ran it."""
    return {"echo": payload, "pid": os.getpid()}
