"""What an operator runs the portal by: /healthz, /readyz (every dependency named with its state,
503 when one is down), /metrics (Prometheus, the portal's own gauges), searchable log lines with
ids, and the refusal to run public development keys on a real chain."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from core.chain.anvil import free_port
from royalties.tests.factories import work_row

BASE_DIR = Path(__file__).resolve().parents[2]
READINESS = "import json; from portal.health import readiness; print(json.dumps(readiness()))"


def _readiness_elsewhere(tmp_path, **env):
    """readiness() in a fresh process with these settings (a database, cache or broker that is down)."""
    run = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", READINESS],
        cwd=BASE_DIR,
        env={**os.environ, "VAR_DIR": str(tmp_path / "var"), "LOG_LEVEL": "ERROR", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.django_db
def test_healthz_is_alive_and_readyz_names_what_is_down(client, settings, tmp_path):
    assert client.get("/healthz").json() == {"status": "ok"}
    settings.CHAIN_RPC_URL = f"http://127.0.0.1:{free_port()}"  # no chain there
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 503 and body["status"] == "not ready"
    assert (
        body["checks"]["database"]["ok"] and body["checks"]["cache"]["ok"] and body["checks"]["broker"]["ok"]
    )
    assert not body["checks"]["chain"]["ok"] and "No chain answers" in body["checks"]["chain"]["error"]
    assert not body["checks"]["indexer"]["ok"]
    blocked = tmp_path / "broker-is-a-file"
    blocked.write_text("")
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        "data_folder_in": str(blocked),
    }
    assert not client.get("/readyz").json()["checks"]["broker"]["ok"]


@pytest.mark.anvil
def test_readyz_is_ready_with_a_chain_and_an_indexer_that_keeps_up(client, chain, settings):
    from licensing.tests.helpers import index, mine

    index(chain)
    body = client.get("/readyz").json()
    assert body["status"] == "ready", body
    assert body["checks"]["chain"]["chain_id"] == 31337
    # version 1 of the market was never deployed on this fresh chain: nothing to follow there
    assert set(body["checks"]["indexer"]["lag_blocks"]) == {"LicenseMarket"}
    settings.READY_INDEXER_MAX_LAG_BLOCKS = 3
    mine(chain, 10)  # the indexer falls behind
    behind = client.get("/readyz")
    assert (
        behind.status_code == 503 and "blocks behind the chain" in behind.json()["checks"]["indexer"]["error"]
    )


def test_readyz_in_processes_whose_database_cache_or_broker_is_down(tmp_path):
    dead = free_port()
    database = _readiness_elsewhere(tmp_path, DATABASE_URL=f"postgres://nobody@127.0.0.1:{dead}/portal")
    assert database[0] is False and not database[1]["database"]["ok"]
    assert "OperationalError" in database[1]["database"]["error"]
    cache = _readiness_elsewhere(tmp_path, REDIS_URL=f"redis://127.0.0.1:{dead}/0")
    assert not cache[1]["cache"]["ok"] and cache[1]["database"]["ok"]
    broker = _readiness_elsewhere(tmp_path, CELERY_BROKER_URL=f"redis://127.0.0.1:{dead}/0")
    assert not broker[1]["broker"]["ok"] and broker[1]["cache"]["ok"]


@pytest.mark.django_db
def test_metrics_are_for_scrapers_and_count_the_portals_backlogs(client, creator, settings):
    work = work_row(creator.user, creator.address, status="pending")
    assert work.registration.batch is None
    assert client.get("/metrics", REMOTE_ADDR="8.8.8.8").status_code == 404  # the internet
    text = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert "portal_anchor_backlog 1.0" in text and 'portal_audit_parts{state="running"} 0.0' in text
    assert "django_http_requests_total_by_method_total" in text  # django-prometheus's own
    settings.METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token").status_code == 200


@pytest.mark.django_db
def test_one_log_line_per_request_and_task_with_the_ids_it_touched(client, creator, caplog, tmp_path):
    from audits import services
    from audits.tasks import audit_start

    work = work_row(creator.user, creator.address)
    with caplog.at_level(logging.INFO, logger="portal.access"):
        response = client.get(f"/works/{work.pk}/", HTTP_X_REQUEST_ID="req-42")
    line = next(r for r in caplog.records if r.name == "portal.access")
    assert line.status == 200 and line.path == f"/works/{work.pk}/" and line.work == str(work.pk)
    assert line.request_id == "req-42" and response["X-Request-ID"] == "req-42"
    manifest = tmp_path / "m.csv"
    manifest.write_text("url\nhttps://x.example/a.jpg\n")
    audit = services.audit_create(name="logged", files=[(str(manifest), "m.csv")])
    with caplog.at_level(logging.INFO, logger="core.tasks"):
        audit_start.apply(args=[audit.pk])
    lines = {r.task: r for r in caplog.records if r.name == "core.tasks"}
    assert lines["audits.start"].audit == str(audit.pk) and lines["audits.start"].state == "SUCCESS"
    assert lines["audits.part"].audit_part and lines["audits.part"].ms is not None


def test_json_lines_when_asked():
    from pythonjsonlogger.json import JsonFormatter

    from portal.logs import ContextFilter, log_ids, logging_config

    config = logging_config(json_lines=True, level="INFO")
    assert config["handlers"]["console"]["formatter"] == "json"
    record = logging.LogRecord("portal.access", logging.INFO, __file__, 1, "GET /x 200", None, None)
    log_ids(work=7, tx="0xabc")
    ContextFilter().filter(record)
    line = json.loads(JsonFormatter("%(levelname)s %(name)s %(message)s").format(record))
    assert line["work"] == "7" and line["tx"] == "0xabc" and line["message"] == "GET /x 200"


def test_public_development_keys_are_refused_on_a_real_chain(settings):
    from django.core.management.base import SystemCheckError

    settings.CHAIN_ID = 11155111  # Sepolia, with anvil's keys still configured
    with pytest.raises(SystemCheckError, match="portal.E001"):
        call_command("check")
    settings.CHAIN_SENDER_PRIVATE_KEY = "0x" + "3" * 64
    settings.PLATFORM_SIGNING_KEY = "0x" + "4" * 64
    settings.MODERATION_SIGNING_KEY = "0x" + "5" * 64
    with pytest.raises(SystemCheckError, match="CHAIN_OWNER_ADDRESS"):  # anvil's #9 owns the contracts
        call_command("check")
    settings.CHAIN_OWNER_ADDRESS = "0x" + "6" * 40
    call_command("check")
    settings.CHAIN_ID = 31337
    call_command("check")
