"""Logs an operator can search: one line per request and per task, each with the ids it touched
(work, quote, settlement, audit, dispute, tx hash), in JSON when LOG_FORMAT=json.

The ids live in a context variable for the duration of a request or a task: the request
middleware and the Celery signals set them from the URL and the task's arguments, code that
learns one (a transaction hash) adds it with `log_ids(tx=...)`, and every log line written
meanwhile carries them (`ContextFilter`)."""

import contextvars
import logging
import time
import uuid

from celery.signals import task_postrun, task_prerun

logger = logging.getLogger("portal.access")
task_logger = logging.getLogger("core.tasks")
_ids: contextvars.ContextVar[dict | None] = contextvars.ContextVar("log_ids", default=None)

# URL keyword -> the id's name in the logs, per URL namespace
URL_IDS = {
    ("works", "pk"): "work",
    ("licensing", "pk"): "offer_or_licence",
    ("licensing", "quote_id"): "quote",
    ("orgs", "settlement_id"): "settlement",
    ("orgs", "pk"): "invoice_or_run",
    ("audits", "token"): "audit",
    ("disputes", "pk"): "dispute",
    ("royalties", "pk"): "work",
}
TASK_IDS = {"audits.start": "audit", "audits.done": "audit", "audits.part": "audit_part"}


def log_ids(**ids) -> None:
    """Add ids to every line logged from here to the end of this request or task."""
    current = dict(_ids.get() or {})
    current.update({k: str(v) for k, v in ids.items() if v not in (None, "")})
    _ids.set(current)


class ContextFilter(logging.Filter):
    def filter(self, record):
        ids = _ids.get() or {}
        for key, value in ids.items():
            if not hasattr(record, key):
                setattr(record, key, value)
        record.ids_text = "".join(f" {k}={v}" for k, v in ids.items())
        return True


class RequestLogMiddleware:
    """One line per request: method, path, status, milliseconds, user, and the ids of its URL.
    The request id comes from X-Request-ID when a proxy sets it, and goes back in the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = (request.headers.get("X-Request-ID") or uuid.uuid4().hex)[:64]
        token = _ids.set({"request_id": request_id})
        started = time.monotonic()
        try:
            response = self.get_response(request)
            match = getattr(request, "resolver_match", None)
            if match is not None:
                log_ids(
                    **{
                        name: match.kwargs[key]
                        for (namespace, key), name in URL_IDS.items()
                        if namespace == match.namespace and key in match.kwargs
                    }
                )
            user = getattr(request, "user", None)
            logger.info(
                "%s %s %s %.1fms",
                request.method,
                request.path,
                response.status_code,
                (time.monotonic() - started) * 1000,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "ms": round((time.monotonic() - started) * 1000, 1),
                    "user": user.pk if user is not None and user.is_authenticated else None,
                },
            )
            response["X-Request-ID"] = request_id
            return response
        finally:
            _ids.reset(token)


_task_started: dict[str, tuple[float, contextvars.Token]] = {}


@task_prerun.connect
def _task_started_(task_id=None, task=None, args=None, kwargs=None, **_):
    token = _ids.set({"task_id": task_id, "task": task.name})
    name = TASK_IDS.get(task.name)
    if name and args:
        log_ids(**{name: args[0]})
    _task_started[task_id] = (time.monotonic(), token)


@task_postrun.connect
def _task_done(task_id=None, task=None, state=None, **_):
    started, token = _task_started.pop(task_id, (None, None))
    ms = round((time.monotonic() - started) * 1000, 1) if started else None
    task_logger.info("task %s %s %sms", task.name, state, ms, extra={"state": state, "ms": ms})
    if token is not None:
        _ids.reset(token)  # back to the caller's ids (a task run inline inside another)


def logging_config(*, json_lines: bool, level: str) -> dict:
    """settings.LOGGING: text lines by default, JSON lines when LOG_FORMAT=json."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"ids": {"()": "portal.logs.ContextFilter"}},
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            },
            "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s%(ids_text)s"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "filters": ["ids"],
                "formatter": "json" if json_lines else "text",
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "web3": {"level": "WARNING"},
            "urllib3": {"level": "WARNING"},
            "faiss.loader": {"level": "WARNING"},
            "axes": {"level": "WARNING"},
            "django.server": {"level": "WARNING"},  # the access line is ours (one per request)
        },
    }
