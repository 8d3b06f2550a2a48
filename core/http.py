"""How views answer a refusal: one mapping from what went wrong to an HTTP status and words.

A service refuses with a `PortalError` that carries its status (400 bad input, 403, 404, 409
conflict, 410 gone, 413, 415, 429); a chain that cannot be asked is 503 with `ERR_CHAIN_DOWN`.
Pages show the words beside the form (`form_refusal`); the JSON endpoints our wallet scripts
call answer `{"error": words, "code": code}` (`wallet_json`); the API has its own handlers
(portal/api.py) that say the same in its schema's shape.
"""

import functools
import json

from django.http import JsonResponse

from core.errors import CHAIN_ERRORS, ERR_CHAIN_DOWN, PortalError

ERR_JSON_BODY = "Send JSON {{{fields}}}."
# What a view catches around a service call: the service's refusal, or a chain that is down.
REFUSALS = (PortalError, *CHAIN_ERRORS)


def refusal(exc: Exception) -> tuple[int, str, str]:
    """(status, code, words) for a service's refusal or a chain that cannot be asked."""
    if isinstance(exc, CHAIN_ERRORS):
        return 503, "chain_unavailable", ERR_CHAIN_DOWN
    if isinstance(exc, PortalError):
        return exc.status, exc.code, exc.message
    raise TypeError(f"not a refusal: {exc!r}")


def json_refusal(exc: Exception) -> JsonResponse:
    status, code, words = refusal(exc)
    return JsonResponse({"error": words, "code": code}, status=status)


def wallet_json(view):
    """For endpoints the wallet scripts call: a refusal becomes its JSON answer, never a page."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except REFUSALS as exc:
            return json_refusal(exc)

    return wrapped


def json_fields(request, *names: str) -> list[str]:
    """The named string fields of a JSON request body, or a 400 refusal that names them."""
    try:
        body = json.loads(request.body)
        values = [body[name] for name in names]
        if not all(isinstance(value, str) for value in values):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        fields = ", ".join(f'"{name}": "0x..."' for name in names)
        raise PortalError(ERR_JSON_BODY.format(fields=fields), code="invalid_body") from None
    return values


def refusal_words(exc: Exception) -> str:
    return refusal(exc)[2]


def form_refusal(form, exc: Exception) -> int:
    """Show the refusal on the form; the status the page is answered with."""
    status, _, words = refusal(exc)
    form.add_error(None, words)
    return status
