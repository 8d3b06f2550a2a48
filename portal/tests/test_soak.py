"""The `make run` stack under ordinary use and faults, for a few minutes: people sign in, upload,
sign registrations, publish offers, buy licences and run audits over HTTP while the Celery
worker is SIGKILLed twice and the broker loses everything once (its folder deleted, or Redis
restarted empty). Afterwards every audit finished, every registration was anchored exactly
once, every paid licence was issued, the ledger reconciles with the contract, and the web
server answered every request. Run on the embedded broker, and in CI on Redis too.

The figures are printed (and kept in var/soak-<broker>.json) for the operations issue's note."""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import time

import pytest
import requests
from web3 import Web3

from core.chain.anvil import free_port
from portal.tests.stack import (
    BASE_DIR,
    SUMMARY,
    PartWatch,
    PortalClient,
    Traffic,
    fund,
    kill_group,
    manage,
    pids_matching,
    shard_with,
)
from tests.fixtures.images import make_image
from tests.fixtures.services import REQUIRE_SERVICES, require_service

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]
SOAK_SECONDS = int(os.environ.get("SOAK_SECONDS", "150"))


def _redis_server(tmp_path):
    binary = shutil.which("redis-server")
    require_service(binary is not None, "redis-server")
    port = free_port()

    def start():
        process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(tmp_path),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(100):
            try:
                import redis

                redis.Redis(port=port, socket_connect_timeout=0.2).ping()
                return process
            except Exception:  # not up yet
                time.sleep(0.1)
        raise AssertionError("redis-server did not start")

    return port, start


def _wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except requests.RequestException:
            pass
        time.sleep(1)  # a whole stack in other processes: there is no clock to move
    raise AssertionError(f"timed out waiting for {what}: {last}")


@pytest.mark.parametrize("broker", ["safefs", "redis"])
def test_the_stack_never_falls_over_and_never_loses_work(broker, tmp_path):
    if broker == "redis" and not REQUIRE_SERVICES and shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    web_port, chain_port = free_port(), free_port()
    var = tmp_path / "var"
    base = f"http://127.0.0.1:{web_port}"
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "REQUIRE_SERVICES"}
    }
    env.update(
        {
            "PORT": str(web_port),
            "CHAIN_RPC_URL": f"http://127.0.0.1:{chain_port}",
            "VAR_DIR": str(var),
            "PYTHONUNBUFFERED": "1",
            "ANCHOR_BATCH_SECONDS": "3",
            "ANCHOR_TICK_SECONDS": "1",
            "INDEXER_TICK_SECONDS": "1",
            "RECONCILE_SECONDS": "3",
            "AUDITS_TICK_SECONDS": "2",
            "AUDIT_STALLED_SECONDS": "10",
            "AUDIT_PART_LEASE_SECONDS": "10",
            "TICK_LEASE_SECONDS": "10",
            "SIWE_NONCE_RATE": "1000/m",
            "SIWE_VERIFY_RATE": "1000/m",
        }
    )
    redis_process = restart_broker = None
    if broker == "redis":
        port, start_redis = _redis_server(tmp_path)
        redis_process = start_redis()
        env["CELERY_BROKER_URL"] = f"redis://127.0.0.1:{port}/0"
        env["CELERY_RESULT_BACKEND"] = f"redis://127.0.0.1:{port}/1"

        def restart_broker():
            nonlocal redis_process
            redis_process.kill()
            redis_process.wait()
            redis_process = start_redis()  # empty: every queued message is gone

    else:

        def restart_broker():
            for folder in ("broker", "control"):  # every queued message and routing table gone
                shutil.rmtree(var / "celery" / folder, ignore_errors=True)

    log_path = tmp_path / "make-run.log"
    started = time.monotonic()
    with open(log_path, "wb") as log:
        stack = subprocess.Popen(
            ["make", "run"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    traffic = Traffic()
    figures = {"broker": broker}
    try:
        _wait(lambda: requests.get(base + "/", timeout=2).status_code == 200, 300, "the first page")
        figures["seconds_to_first_page"] = round(time.monotonic() - started, 1)
        w3 = Web3(Web3.HTTPProvider(env["CHAIN_RPC_URL"]))
        creators = [PortalClient(base, traffic) for _ in range(2)]
        buyers = [PortalClient(base, traffic) for _ in range(2)]
        auditor = PortalClient(base, traffic)
        for person in (*creators, *buyers, auditor):
            fund(w3, person.account.address)
            person.sign_in()

        worker_marker = str(var / "celery" / "beat-schedule")  # in the worker's command line only

        def kill_mid_audit():
            """The worker dies in the middle of a long audit part (3,000 images, a few seconds of
            work on an idle machine)."""
            filler = [make_image(seed=90_000 + i, size=(160, 120), quality=60) for i in range(3000)]
            watch = PartWatch(env, "long set")
            token = auditor.audit("long set", [("00001.tar", shard_with(uploads[0][1], filler=filler))])
            audits.append(token)
            holder = watch.holder()
            assert holder != "none", "the long part was never seen running"
            for pid in pids_matching(worker_marker):
                kill_group(pid)

        faults = [
            (0.2, "worker killed in the middle of an audit part", kill_mid_audit),
            (0.45, "broker restarted", restart_broker),
            (0.7, "worker killed", lambda: [kill_group(p) for p in pids_matching(worker_marker)]),
        ]
        figures["faults"] = []
        uploads: list[tuple[int, bytes]] = []
        offers: list[int] = []
        quotes: list[str] = []
        audits: list[str] = []
        soak_started = time.monotonic()
        n = 0
        while time.monotonic() - soak_started < SOAK_SECONDS:
            elapsed = (time.monotonic() - soak_started) / SOAK_SECONDS
            while faults and elapsed >= faults[0][0]:
                _, name, act = faults.pop(0)
                act()
                figures["faults"].append(f"{name} at {round(time.monotonic() - soak_started)} s")
            creator = creators[n % 2]
            data = make_image(seed=50_000 + n, size=(400, 300))
            work_id = creator.upload(data, f"Soak {n}")
            creator.sign_registration(work_id)
            uploads.append((work_id, data))
            if n % 3 == 0:
                offers.append(creator.publish_offer(work_id))
            if n % 3 == 1 and offers:
                quotes.append(buyers[n % 2].buy(offers.pop(0), w3))
            if n % 5 == 2:
                known = uploads[-1][1]
                manifest = (
                    f"url,sha256\nhttps://elsewhere.example/{n}.jpg,{hashlib.sha256(known).hexdigest()}\n"
                )
                audits.append(
                    auditor.audit(
                        f"soak set {n}", [("m.csv", manifest.encode()), ("00000.tar", shard_with(known))]
                    )
                )
            for person in (creator, buyers[n % 2]):
                person.browse(work_id)
            for quote_id in quotes[-2:]:
                buyers[0].get(f"/quotes/{quote_id}/status", expect=(200, 404))
            for token in audits[-2:]:
                auditor.get(f"/audits/{token}/progress", expect=(200,))
            n += 1
        figures["iterations"] = n
        for _, name, act in faults:  # a short soak still gets every fault
            act()
            figures["faults"].append(f"{name} after the traffic")

        # Everything settles: no work lost, nothing done twice.
        def settled():
            summary = json.loads(manage(env, SUMMARY))
            figures["summary"] = summary
            return (
                summary["registrations_confirmed"] == summary["registrations_signed"] == len(uploads)
                and summary["audits_done"] == summary["audits"] == len(audits)
                and summary["licences"] == len(quotes)
                and summary["quotes_paid_without_licence"] == 0
                and summary["reconciled"]
            ) and summary

        # Settling after the traffic took 170-220 s on the file-system broker in CI (under 60 s on
        # Redis): slow, not lost (docs in the stop notes). The time is a figure; the bound is wide.
        settle_started = time.monotonic()
        summary = _wait(settled, 600, "every audit, anchor and licence")
        figures["settle_seconds"] = round(time.monotonic() - settle_started, 1)
        assert summary["roots_anchored_twice"] == 0
        assert summary["anchor_events"] == summary["batches"]
        assert summary["reconciliation_mismatches"] == 0
        assert summary["audit_parts_retried"] >= 1  # the killed part ran again, once
        assert stack.poll() is None, "make run stopped"
    finally:
        log_text = log_path.read_text(errors="replace")
        figures.update(
            {
                "requests": traffic.made,
                "failures": len(traffic.failures),
                "slowest_request_ms": round(traffic.slowest_ms),
                "restarts": log_text.count("restarted it as pid"),
                "unrecoverable_errors": log_text.count("Unrecoverable error")
                - _kombu_reconnect_crashes(log_text),
                "worker_exits_on_broker_restart": _kombu_reconnect_crashes(log_text),
            }
        )
        (BASE_DIR / "var").mkdir(exist_ok=True)
        (BASE_DIR / "var" / f"soak-{broker}.json").write_text(json.dumps(figures, indent=2))
        print(json.dumps(figures))
        os.killpg(stack.pid, signal.SIGINT)
        try:
            stack.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(stack.pid, signal.SIGKILL)
        if redis_process is not None:
            redis_process.kill()
    assert traffic.failures == [], traffic.failures[:5]
    # the dev stack brought the worker back after each kill, and after each exit of the worker on
    # the broker's restart (below)
    assert figures["restarts"] >= 2 + figures["worker_exits_on_broker_restart"], log_text[-3000:]
    assert figures["unrecoverable_errors"] == 0, log_text[-3000:]
    assert len(figures["faults"]) == 3


# kombu's Redis transport, closing its channel after the broker went away, can fail to restore
# the unacknowledged messages with this AttributeError (an upstream bug of the same family as
# celery/kombu#970); the worker then stops with "Unrecoverable error" and the dev stack (like
# any supervisor) starts it again. The message it held stays in Redis's unacked set until the
# visibility timeout (an hour) and the beat's ticks send again what it stood for, as for any lost
# message. Such an exit is counted and must be followed by a restart; any other is a failure.
KOMBU_RECONNECT_BUG = "AttributeError(\"'NoneType' object has no attribute 'hostname'\")"


def _kombu_reconnect_crashes(log_text: str) -> int:
    return sum(
        1 for line in log_text.splitlines() if "Unrecoverable error" in line and KOMBU_RECONNECT_BUG in line
    )
