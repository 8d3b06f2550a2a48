from celery import shared_task


@shared_task(name="portal.ping")
def ping(payload: str = "pong") -> dict:
    """Round-trip check for the worker: echoes its input and says who ran it."""
    import os

    return {"echo": payload, "pid": os.getpid()}
