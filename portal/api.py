"""The one API object: every app's router mounted under /api/v1/, API-key authentication,
per-key rate limits, and JSON errors `{"error": "<code>", "detail": "..."}` with the right 4xx.
Never an HTML page, never a redirect to a sign-in page."""

import logging
import time

from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from django.utils import timezone
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyHeader, HttpBearer

from core.errors import CHAIN_ERRORS, ERR_CHAIN_DOWN, ERR_STORAGE_DOWN, PortalError
from orgs.selectors import key_for_secret

logger = logging.getLogger(__name__)

ERR_UNAUTHORIZED = "Send a valid API key: `Authorization: Bearer cip_…` or `X-API-Key: cip_…`."
ERR_REVOKED = "This API key was revoked; ask an admin of your organisation for a new one."
ERR_RATE = "Too many requests for this API key: at most {limit} a minute. Retry in {retry} s."
ERR_INVALID = "The request does not match the API schema."
ERR_TOO_BIG = "The request body is over {limit} MiB; send fewer items per request."


class RateLimited(PortalError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def _authenticate(request, secret: str):

    key = key_for_secret(secret)
    if key is None:
        return None
    if key.revoked_at is not None:
        raise PortalError(ERR_REVOKED, status=401, code="key_revoked")
    now = time.time()
    window = int(now // 60)
    counter = f"api-rate:{key.pk}:{window}"
    count = cache.get_or_set(counter, 0, 120)
    try:
        count = cache.incr(counter)
    except ValueError:
        cache.set(counter, 1, 120)
        count = 1
    if count > key.rate_per_minute:
        retry = max(1, int(60 - now % 60))
        raise RateLimited(ERR_RATE.format(limit=key.rate_per_minute, retry=retry), retry_after=retry)
    if key.last_used_at is None or (timezone.now() - key.last_used_at).total_seconds() > 60:
        type(key).objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    request.org = key.org
    request.api_key = key
    return key


class BearerKey(HttpBearer):
    def authenticate(self, request, token):
        return _authenticate(request, token)


class HeaderKey(APIKeyHeader):
    param_name = "X-API-Key"

    def authenticate(self, request, key):
        return _authenticate(request, key)


api = NinjaAPI(
    title="Creator IP Portal API",
    version="1",
    description=(
        "License training data at scale: check manifests against the registry, buy training "
        "licences for many works in one transaction, report training runs, pay invoices, "
        "follow terms changes. Authenticate with an organisation's API key.\n\n"
        'Errors are JSON `{"error": code, "detail": text}`: 400 when the request does not '
        "match this schema, 422 when a well-formed request is refused by a rule (terms that "
        "prohibit training, a wallet your organisation never registered), 404 for another "
        "organisation's objects, 409 for a state that forbids it, 429 with `Retry-After`, 503 "
        "when the chain cannot be asked."
    ),
    urls_namespace="api",
    auth=[BearerKey(), HeaderKey()],
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def _error(request, status: int, code: str, detail: str, headers=None):
    response = api.create_response(request, {"error": code, "detail": detail}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


@api.exception_handler(RateLimited)
def _rate_limited(request, exc):
    return _error(request, 429, exc.code, exc.message, {"Retry-After": str(exc.retry_after)})


@api.exception_handler(PortalError)
def _portal_error(request, exc):
    if isinstance(exc, CHAIN_ERRORS):
        return _error(request, 503, "chain_unavailable", ERR_CHAIN_DOWN)
    # 400 is kept for requests that break the schema; a service refusing a well-formed request
    # answers 422 (the schema cannot state its rule).
    return _error(request, 422 if exc.status == 400 else exc.status, exc.code, exc.message)


@api.exception_handler(AuthenticationError)
def _unauthorized(request, exc):
    return _error(request, 401, "unauthorized", ERR_UNAUTHORIZED, {"WWW-Authenticate": 'Bearer realm="api"'})


@api.exception_handler(NinjaValidationError)
def _invalid(request, exc):
    problems = []
    for error in exc.errors[:5]:
        where = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body", "payload"))
        problems.append(
            f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg", "invalid"))
        )
    return _error(request, 400, "invalid_request", "; ".join(problems) or ERR_INVALID)


@api.exception_handler(RequestDataTooBig)
def _too_big(request, exc):
    from django.conf import settings

    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return _error(request, 413, "too_large", ERR_TOO_BIG.format(limit=limit // (1024 * 1024)))


@api.exception_handler(SuspiciousOperation)
def _suspicious(request, exc):
    return _error(request, 400, "invalid_request", str(exc) or ERR_INVALID)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, 404, "not_found", str(exc) or "Not found.")


HTTP_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


@api.exception_handler(HttpError)
def _http_error(request, exc):
    # django-ninja's own refusals, e.g. a body that is not JSON ("Cannot parse request body")
    return _error(request, exc.status_code, HTTP_CODES.get(exc.status_code, "error"), str(exc))


@api.exception_handler(OSError)
def _os_error(request, exc):
    if isinstance(exc, CHAIN_ERRORS):
        logger.warning("API call could not reach the chain: %s", exc)
        return _error(request, 503, "chain_unavailable", ERR_CHAIN_DOWN)
    # the disk, not the caller and not the chain: an operator must look (logged with its trace)
    logger.error("API call failed on the server's storage: %s", exc, exc_info=True)
    return _error(request, 503, "storage_unavailable", ERR_STORAGE_DOWN)


api.add_router("/", "orgs.api.router")
api.add_router("/", "training.api.router")
api.add_router("/", "audits.api.router")
