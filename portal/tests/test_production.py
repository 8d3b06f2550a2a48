"""The production shape, as the Procfile describes it: `release`, then gunicorn with two web
processes, two Celery workers, the indexer and beat, on PostgreSQL and Redis, with a real chain.
A creator registers and sells, a buyer pays, an auditor audits a long shard; one web process and
the worker running the audit's part are killed part way. Nothing is lost: the licence is issued,
the part runs again elsewhere and the audit finishes, every registration is anchored once, the
ledger reconciles, and no request failed."""

import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import time
from urllib.parse import urlsplit

import psycopg
import pytest
import requests
from web3 import Web3

from core.chain.anvil import anvil_start, anvil_stop, free_port
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
from tests.fixtures.services import require_service

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


def _procfile() -> dict[str, str]:
    lines = (BASE_DIR / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line and not line.startswith("#"))


@pytest.fixture
def database():
    """A database of its own on the PostgreSQL server of DATABASE_URL (made and dropped here)."""
    url = os.environ.get("DATABASE_URL", "")
    require_service(url.startswith("postgres"), "PostgreSQL (DATABASE_URL)")
    parts = urlsplit(url)
    name = f"portal_prod_{secrets.token_hex(4)}"
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield parts._replace(path=f"/{name}").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_url(tmp_path):
    binary = shutil.which("redis-server")
    require_service(binary is not None, "redis-server")
    port = free_port()
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
    )
    time.sleep(0.5)
    yield f"redis://127.0.0.1:{port}"
    process.kill()


def test_the_procfile_shape_loses_nothing_when_a_web_process_and_a_worker_die(database, redis_url, tmp_path):
    chain_port, web_port = free_port(), free_port()
    chain = anvil_start(port=chain_port, block_time=1, log_path=tmp_path / "anvil.log")
    base = f"http://127.0.0.1:{web_port}"
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"REQUIRE_SERVICES", "DJANGO_ALLOW_ASYNC_UNSAFE"}},
        "PATH": f"{BASE_DIR / '.venv' / 'bin'}:{os.environ['PATH']}",
        "DATABASE_URL": database,
        "REDIS_URL": f"{redis_url}/0",
        "CELERY_BROKER_URL": f"{redis_url}/1",
        "CELERY_RESULT_BACKEND": f"{redis_url}/2",
        "CHAIN_RPC_URL": f"http://127.0.0.1:{chain_port}",
        "VAR_DIR": str(tmp_path / "var"),
        "HOST": "127.0.0.1",
        "PORT": str(web_port),
        "PORTAL_BASE_URL": base,
        "WEB_CONCURRENCY": "2",
        "WORKER_CONCURRENCY": "1",
        "PYTHONUNBUFFERED": "1",
        "STATICFILES_BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage",
        "ANCHOR_BATCH_SECONDS": "3",
        "ANCHOR_TICK_SECONDS": "1",
        "INDEXER_TICK_SECONDS": "1",
        "RECONCILE_SECONDS": "3",
        "AUDITS_TICK_SECONDS": "2",
        "AUDIT_STALLED_SECONDS": "10",
        "AUDIT_PART_LEASE_SECONDS": "10",
        "TICK_LEASE_SECONDS": "10",
    }
    processes: dict[str, list[subprocess.Popen]] = {}
    logs = tmp_path / "logs"
    logs.mkdir()
    procfile = _procfile()
    traffic = Traffic()
    figures = {}
    try:
        release = subprocess.run(
            ["bash", "-c", procfile["release"]],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert release.returncode == 0, release.stdout[-2000:] + release.stderr[-3000:]
        deployed = subprocess.run(
            ["bash", "-c", "python manage.py chain_deploy"],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
        )
        assert deployed.returncode == 0, deployed.stderr[-2000:]
        for name, count in (("web", 1), ("worker", 2), ("indexer", 1), ("beat", 1)):
            for i in range(count):
                with open(logs / f"{name}-{i}.log", "wb") as log:
                    processes.setdefault(name, []).append(
                        subprocess.Popen(
                            ["bash", "-c", f"exec {procfile[name]}"],
                            cwd=BASE_DIR,
                            env={**env, "WORKER_NAME": f"{name}{i}"},
                            stdout=log,
                            stderr=subprocess.STDOUT,
                            start_new_session=True,
                        )
                    )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if requests.get(base + "/readyz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        figures["readyz"] = requests.get(base + "/readyz", timeout=5).json()
        assert figures["readyz"]["status"] == "ready", figures["readyz"]

        w3 = Web3(Web3.HTTPProvider(env["CHAIN_RPC_URL"]))
        creator, buyer, auditor = (PortalClient(base, traffic) for _ in range(3))
        for person in (creator, buyer, auditor):
            fund(w3, person.account.address)
            person.sign_in()
        art = make_image(seed=70_001, size=(400, 300))
        work_id = creator.upload(art, "Production lagoon")
        creator.sign_registration(work_id)
        offer_id = creator.publish_offer(work_id)

        # The audit: a long shard, and its worker killed while the part runs.
        filler = [make_image(seed=71_000 + i, size=(160, 120), quality=60) for i in range(3000)]
        manifest = f"url,sha256\nhttps://elsewhere.example/a.jpg,{hashlib.sha256(art).hexdigest()}\n"
        watch = PartWatch(env, "production set")
        token = auditor.audit(
            "production set", [("m.csv", manifest.encode()), ("00000.tar", shard_with(art, filler=filler))]
        )
        holder = watch.holder()
        assert holder != "none", "the long part was never seen running"
        kill_group(int(holder.rsplit(":", 1)[1]))
        figures["worker_killed"] = holder

        # One web process dies between two requests; gunicorn's master starts another.
        web_pids = pids_matching("gunicorn portal.wsgi")
        master = processes["web"][0].pid
        children = [pid for pid in web_pids if pid != master]
        assert len(children) == 2, web_pids
        os.kill(children[0], signal.SIGKILL)
        figures["web_process_killed"] = children[0]

        quote_id = buyer.buy(offer_id, w3)
        for _ in range(30):
            buyer.browse(work_id)
            auditor.get(f"/audits/{token}/progress", expect=(200,))

        def settled():
            summary = json.loads(manage(env, SUMMARY))
            figures["summary"] = summary
            status = buyer.get(f"/quotes/{quote_id}/status", expect=(200,)).text
            return (
                "Licensed." in status
                and summary["audits_done"] == summary["audits"] == 1
                and summary["registrations_confirmed"] == summary["registrations_signed"] == 1
                and summary["reconciled"]
            ) and summary

        deadline = time.monotonic() + 300
        summary = None
        while time.monotonic() < deadline and not summary:
            summary = settled()
            time.sleep(1)  # other processes: no clock to move
        assert summary, figures
        assert summary["audit_parts_retried"] == 1 and summary["roots_anchored_twice"] == 0
        assert summary["quotes_paid_without_licence"] == 0 and summary["reconciliation_mismatches"] == 0
        assert len([p for p in pids_matching("gunicorn portal.wsgi") if p != master]) == 2  # replaced
        assert traffic.failures == [], traffic.failures[:5]
        metrics = requests.get(base + "/metrics", timeout=5).text
        assert "portal_anchor_backlog 0.0" in metrics
    finally:
        figures.update({"requests": traffic.made, "failures": len(traffic.failures)})
        (BASE_DIR / "var").mkdir(exist_ok=True)
        (BASE_DIR / "var" / "production-shape.json").write_text(json.dumps(figures, indent=2))
        print(json.dumps(figures))
        for group in processes.values():
            for process in group:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for group in processes.values():
            for process in group:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
        anvil_stop(chain)
