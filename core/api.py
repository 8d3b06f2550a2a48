"""What every app's API router shares: the error schema, JSON integers, and scope checks. The
one API object that mounts the routers, authenticates keys and maps errors is the site's
(portal/api.py)."""

from django.db import models
from ninja import Schema
from pydantic import BeforeValidator

from core.errors import PortalError

ERR_SCOPE = "This API key lacks the “{scope}” scope."


class Scope(models.TextChoices):
    """What an organisation's API key may do (orgs.models.ApiKey.scopes holds these)."""

    READ = "read", "read: check manifests, read terms, licences, runs and invoices"
    LICENSE = "license", "license: quote and pay training licences and invoices"
    REPORT = "report", "report: report training runs"


def _no_bool_or_text(value):
    if isinstance(value, bool | str):
        raise ValueError("must be a JSON integer")
    return value


# An integer as JSON Schema means it: 3 and 3.0 are integers, true and "3" are not (pydantic's lax
# mode would take both). Use after the constraints: Annotated[int, Field(ge=1), JSON_INT].
JSON_INT = BeforeValidator(_no_bool_or_text)


def _digits_only(value):
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("must be a whole number, digits only")
    return value


# An integer in a query string or a path: digits only ("1.0" and "1e3" are refused, which
# pydantic's lax mode would take). Annotated[int, Field(ge=0), TEXT_INT].
TEXT_INT = BeforeValidator(_digits_only)


def _date_time_text(value):
    if not isinstance(value, str):
        raise ValueError("must be a date-time string (ISO 8601, e.g. 2026-12-01T12:00:00Z)")
    return value


# A date-time as JSON Schema means it: ISO 8601 text. A number is refused (pydantic's lax mode
# would read it as seconds since 1970). Annotated[datetime, JSON_DATETIME].
JSON_DATETIME = BeforeValidator(_date_time_text)


class ErrorOut(Schema):
    error: str
    detail: str


ERRORS = {code: ErrorOut for code in (400, 401, 403, 404, 409, 410, 413, 422, 429, 503)}


def require_scope(request, scope: str) -> None:
    """Refuse (403) a request whose API key lacks `scope`."""
    if scope not in request.api_key.scopes:
        raise PortalError(ERR_SCOPE.format(scope=scope), status=403, code="insufficient_scope")
