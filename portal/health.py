"""Is this process able to serve? `/healthz` says the process is alive; `/readyz` asks every part
it depends on, names each with its state, and is not ready (503) when any of them is not.

Checks: the database, the cache, the Celery broker, the chain's JSON-RPC (right chain id), and
the event indexer's lag behind the chain (READY_INDEXER_MAX_LAG_BLOCKS)."""

import os
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from core.chain.client import chain_check, get_web3
from core.chain.contracts import contract, is_deployed
from core.chain.models import ChainCursor
from portal.celery import app


def _database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def _cache() -> dict:
    cache.set("readyz", "ok", 10)
    if cache.get("readyz") != "ok":
        raise RuntimeError("the cache did not keep what was put in it")
    return {"backend": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]}


def _broker() -> dict:
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    if "data_folder_in" in options:  # the embedded broker: its folder must take a message
        folder = Path(options["data_folder_in"])
        probe = folder / f".readyz-{os.getpid()}"
        probe.write_bytes(b"ok")
        probe.unlink()
        return {"folder": str(folder)}
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        return {"url": conn.as_uri()}  # the password masked


def _chain() -> dict:
    return {"chain_id": chain_check(get_web3()), "block": get_web3().eth.block_number}


def indexer_lag() -> dict[str, int]:
    """Blocks between what the indexer has read of each contract and the newest confirmed block."""
    w3 = get_web3()
    head = w3.eth.block_number - settings.CHAIN_CONFIRMATIONS + 1
    cursors = dict(
        ChainCursor.objects.filter(chain_id=settings.CHAIN_ID).values_list("contract", "block_number")
    )
    lags = {}
    for name in settings.CHAIN_INDEXED_CONTRACTS:
        if not is_deployed(w3=w3, name=name):
            continue
        address = contract(w3=w3, name=name).address
        read = cursors.get(address)
        lags[name] = max(head - read, 0) if read is not None else head
    return lags


def _indexer() -> dict:
    lags = indexer_lag()
    worst = max(lags.values(), default=0)
    if worst > settings.READY_INDEXER_MAX_LAG_BLOCKS:
        raise RuntimeError(
            f"{worst} blocks behind the chain (more than {settings.READY_INDEXER_MAX_LAG_BLOCKS})"
        )
    return {"lag_blocks": lags}


CHECKS: dict[str, Callable[[], dict]] = {
    "database": _database,
    "cache": _cache,
    "broker": _broker,
    "chain": _chain,
    "indexer": _indexer,
}


def readiness() -> tuple[bool, dict]:
    """(ready, {check: {"ok", "ms", ... or "error"}}); a check that raises is not ok, with why."""
    results = {}
    for name, check in CHECKS.items():
        started = time.monotonic()
        try:
            detail = check()
            results[name] = {"ok": True, **detail}
        except Exception as exc:  # each part's failure is reported, never raised
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        results[name]["ms"] = round((time.monotonic() - started) * 1000, 1)
    return all(r["ok"] for r in results.values()), results
