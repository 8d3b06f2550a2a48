import pytest


@pytest.fixture
def publish():
    """publish(persona, image, title=...) -> a public work uploaded from `image` (a PIL image or
    bytes) through the upload service, its registration signed (pending anchoring), in the index."""
    from audits.synthetic import encode
    from tests.fixtures.images import upload_file
    from works.models import Registration
    from works.services import fingerprint_publish, work_upload

    def make(persona, image, *, title="Work", status=Registration.Status.PENDING):
        data = image if isinstance(image, bytes) else encode(image, "JPEG", 92)
        work = work_upload(
            user=persona.user, creator_address=persona.address, file=upload_file(data), title=title
        )
        Registration.objects.filter(work=work).update(status=status, signature="0x" + "11" * 65)
        work.refresh_from_db()
        if status == Registration.Status.PENDING:
            fingerprint_publish(work=work)
        return work, data

    return make


@pytest.fixture
def redis_broker():
    """Two Redis databases for a real Celery broker and result backend (emptied first)."""
    import os

    import redis

    from tests.fixtures.services import require_service

    base = os.environ.get("AUDIT_TEST_REDIS", "redis://127.0.0.1:6379")
    try:
        for db in (5, 6):
            redis.Redis.from_url(f"{base}/{db}", socket_connect_timeout=1).flushdb()
        up = True
    except redis.RedisError:
        up = False
    require_service(up, "Redis (127.0.0.1:6379)")
    return f"{base}/5", f"{base}/6"


@pytest.fixture
def celery_workers(transactional_db, redis_broker, settings, tmp_path):
    """start(name) -> a real `celery worker` process (prefork, concurrency 1) on the Redis broker,
    sharing this test's PostgreSQL database and media folders; all stopped afterwards."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    from celery import Celery
    from django.db import connection

    from tests.fixtures.services import require_service

    require_service(connection.vendor == "postgresql", "PostgreSQL (workers share the test database)")
    db = connection.settings_dict
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    database_url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{host}:{port}/{db['NAME']}"
    broker, backend = redis_broker
    started = []
    probe = Celery(broker=broker, backend=backend, set_as_current=False)
    # Requests of this test process (the live server) queue to the same broker as the workers.
    from portal.celery import app

    saved = (app.conf.broker_url, app.conf.result_backend, app.conf.broker_transport_options)
    app.conf.update(
        task_always_eager=False, broker_url=broker, result_backend=backend, broker_transport_options={}
    )
    app._pool = None
    app.amqp._producer_pool = None

    def start(name: str):
        log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker,
            "CELERY_RESULT_BACKEND": backend,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "PRIVATE_MEDIA_ROOT": str(settings.PRIVATE_MEDIA_ROOT),
            "AUDIT_ROOT": str(settings.AUDIT_ROOT),
            "PYTHONUNBUFFERED": "1",
        }
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "-n",
                f"{name}@%h",
                "--concurrency=1",
                "--pool=prefork",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
            ],
            env=env,
            cwd=settings.BASE_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append((process, log))
        node = f"{name}@{socket.gethostname()}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if probe.control.ping(destination=[node], timeout=0.5):
                return node
            if process.poll() is not None:
                break
        raise AssertionError(
            f"worker {name} did not start:\n{(tmp_path / f'{name}.log').read_text()[-3000:]}"
        )

    def send(task, *args):
        with probe.connection_for_write() as conn:
            task.apply_async(args=list(args), connection=conn)

    start.send = send
    start.logs = lambda: "\n".join(p.read_text()[-4000:] for p in tmp_path.glob("*.log"))
    yield start
    for process, _ in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process, log in started:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()
    probe.close()
    app.conf.update(broker_url=saved[0], result_backend=saved[1], broker_transport_options=saved[2])
    app._pool = None
    app.amqp._producer_pool = None
    app.set_current()
