"""Memory helpers for requests that build many objects."""

import contextlib
import gc


@contextlib.contextmanager
def collector_paused():
    """Pause Python's cyclic garbage collector while a request builds many small objects that
    hold no reference cycles (a manifest check's 10,000 results): otherwise every 700
    allocations start a collection that walks the young objects again, and the older
    generations' walks cost more as the results grow (bench/manifest_check.py: p95 412 ms with,
    about half without). Reference counting still frees everything; the collector runs again
    after the block if it was on before."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
