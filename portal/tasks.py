import os

from celery import shared_task

# Tasks that talk to the chain: a node that is down or slow raises ConnectionError/OSError,
# and the task retries with exponential backoff (capped at 5 minutes) until it answers.
CHAIN_TASK_OPTIONS = {
    "autoretry_for": (ConnectionError, OSError),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": None,
    "ignore_result": True,
}


@shared_task(name="portal.ping")
def ping(payload: str = "pong") -> dict:
    """Round-trip check for the worker: echoes its input and says who ran it."""
    return {"echo": payload, "pid": os.getpid()}
