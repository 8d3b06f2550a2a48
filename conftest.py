"""The suite's shared fixtures live in tests/fixtures/ (services, personas, SIWE, chains, the
browser, images); this file loads them and keeps what every test gets (autouse)."""

import os

import pytest

pytest.register_assert_rewrite("tests.fixtures")

from tests.fixtures.services import require_service  # noqa: E402

# Playwright's sync API runs an event loop in the test thread; Django must allow ORM calls there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = [
    "tests.fixtures.services",
    "tests.fixtures.personas",
    "tests.fixtures.siwe",
    "tests.fixtures.chain",
    "tests.fixtures.browser",
    "tests.fixtures.images",
    "tests.fixtures.accounts",
]


@pytest.fixture
def postgres(db):
    """Skip on SQLite locally; fail in CI (REQUIRE_SERVICES=1) when the database is not PostgreSQL."""
    from django.db import connection

    require_service(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    return connection


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters live in the cache; each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _tasks_run_inline():
    """Tasks a request queues (an audit) run inline in tests, unless a test starts real workers
    (audits/tests/conftest.py `celery_workers` points the app at Redis instead)."""
    from portal.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _fresh_fingerprint_index():
    from works.fingerprint_index import _index

    _index.reset()
    yield
    _index.reset()


@pytest.fixture(autouse=True)
def _no_stray_chain(settings):
    """Without the `chain` fixture (which points this at its own anvil) the portal has no chain:
    a developer's `make run` answering on the default port must not change what a test sees."""
    settings.CHAIN_RPC_URL = "http://127.0.0.1:9"  # discard: refused at once
    yield


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.AUDIT_ROOT = tmp_path / "audits"
    from django.utils.functional import empty

    from works.models import private_storage

    private_storage._wrapped = empty  # re-read PRIVATE_MEDIA_ROOT on next use
    yield
    private_storage._wrapped = empty
