import json

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db import IntegrityError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST, require_safe
from django_ratelimit.core import is_ratelimited

from core.chain.signatures import SignatureUnverifiable
from portal.siwe import services
from portal.siwe.flows import ERR_LOGIN_REFUSED, siwe_login

ERR_RATE_LIMITED = "Too many sign-in attempts from this address; wait a minute and try again."
ERR_LOCKED_OUT = "Too many failed sign-ins from this address; try again later."
ERR_TOO_LARGE = "The request is too large to be a sign-in message."
ERR_BAD_REQUEST = 'Send JSON {"message": "...", "signature": "0x..."}.'


def _error(message, status):
    return JsonResponse({"error": message}, status=status)


def _rate_limited(request, group, rate):
    return is_ratelimited(request, group=group, key="ip", rate=rate, increment=True)


def lockout_response(request, response=None, credentials=None, *args, **kwargs):
    """django-axes' lockout answer: JSON, like every other sign-in failure."""
    return _error(ERR_LOCKED_OUT, 429)


def _session_key(request):
    if not request.session.session_key:
        request.session["siwe"] = True
        request.session.save()
    return request.session.session_key


def _record_failure(request):
    """Count a failed sign-in towards django-axes' lockout.

    axes creates its attempt row with get_or_create, which races when one client fails twice
    at the same moment (a replayed nonce sent in parallel): the loser's IntegrityError means
    the row now exists, so counting again updates it instead of answering 500.
    """
    for _ in range(2):
        try:
            user_login_failed.send(sender=__name__, credentials={"username": ""}, request=request)
            return
        except IntegrityError:
            continue


@require_GET
@never_cache
def nonce(request):
    if _rate_limited(request, "siwe-nonce", settings.SIWE_NONCE_RATE):
        return _error(ERR_RATE_LIMITED, 429)
    issued = services.nonce_issue(session_key=_session_key(request))
    return JsonResponse({"nonce": issued.nonce})


@require_POST
@never_cache
def verify(request):
    if _rate_limited(request, "siwe-verify", settings.SIWE_VERIFY_RATE):
        return _error(ERR_RATE_LIMITED, 429)
    if AxesProxyHandler.is_locked(request, {}):
        return lockout_response(request)
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > settings.SIWE_MAX_BODY_BYTES:
        return _error(ERR_TOO_LARGE, 413)
    try:
        payload = json.loads(request.body)
        message, signature = payload["message"], payload["signature"]
        if not isinstance(message, str) or not isinstance(signature, str):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return _error(ERR_BAD_REQUEST, 400)

    try:
        address = services.siwe_message_verify(
            message=message,
            signature=signature,
            site=services.SiteOrigin(scheme=request.scheme, host=request.get_host()),
            session_key=request.session.session_key or "",
        )
    except services.SiweError as exc:
        _record_failure(request)
        if getattr(request, "axes_locked_out", False):
            return lockout_response(request)
        return _error(exc.message, exc.status)
    except SignatureUnverifiable as exc:  # a contract account's signature and the chain is down
        return _error(exc.message, exc.status)

    if not siwe_login(request=request, address=address):
        return _error(ERR_LOGIN_REFUSED, 403)
    return JsonResponse({"address": address})


@require_safe
@ensure_csrf_cookie
def signin(request):
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(
        request,
        "siwe/signin.html",
        {"next": request.GET.get("next", ""), "chain_id": settings.SIWE_ALLOWED_CHAIN_IDS[0]},
    )
