import hmac
import ipaddress

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.static import serve
from prometheus_client import CONTENT_TYPE_LATEST

from audits.selectors import found_for_creator
from core.chain.stablecoin import currency
from core.models import Notification
from core.notifications import KINDS, notifications_read
from core.selectors import (
    NOTIFICATIONS_PAGE,
    notifications_page,
    profile_for_user,
    wallet_address_for_request,
    wallet_address_for_user,
)
from core.services import profile_update
from licensing import rights
from licensing.selectors import licence_counts
from portal.forms import ProfileForm
from portal.health import readiness
from portal.metrics import metrics_text
from royalties.selectors import earnings_totals, sheets_awaiting
from training.selectors import training_sold_count
from works.models import DerivationLink, Work
from works.selectors import works_for_owner

MAX_MEDIA_NAME = 255  # the longest name a preview or thumbnail field can hold


def home(request):
    return render(request, "portal/home.html")


def _sales_counts(user) -> dict:
    """What a person sold and bought: a sale is any paid use of one of their works (a licence, a
    training licence an AI company bought, a work of a training run whose invoice was paid)."""
    counts = licence_counts(user=user)
    counts["training_sold"] = training_sold_count(user=user)
    counts["sold"] += counts["training_sold"]
    return counts


def _earnings(address) -> dict:
    """The dashboard's earnings: ETH, and the stablecoin beside it when there is any."""
    if not address:
        return {"earnings": None, "token_earnings": None}
    totals = earnings_totals(address=address)
    token = totals.get(currency())
    return {"earnings": totals["ETH"], "token_earnings": token, "token_currency": currency()}


@login_required
def dashboard(request):

    address = wallet_address_for_request(request)
    return render(
        request,
        "portal/dashboard.html",
        {
            "profile": profile_for_user(user=request.user),
            "works": works_for_owner(user=request.user),
            "licence_counts": _sales_counts(request.user),
            **_earnings(address),
            "sheets_awaiting": sheets_awaiting(address=address) if address else [],
            "derivation_requests": DerivationLink.objects.filter(
                parent__owner=request.user, status=DerivationLink.Status.PENDING
            ).select_related("parent", "child"),
            "found_in_datasets": found_for_creator(user=request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    current = profile_for_user(user=request.user)
    form = ProfileForm(
        request.POST or None, initial={"display_name": current.display_name, "email": request.user.email}
    )
    if request.method == "POST" and form.is_valid():
        profile_update(
            user=request.user,
            display_name=form.cleaned_data["display_name"],
            email=form.cleaned_data["email"],
        )
        messages.success(request, "Profile saved.")
        return redirect("portal:profile")
    return render(
        request,
        "portal/profile.html",
        {"form": form, "profile": current, "address": wallet_address_for_user(user=request.user)},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def notifications(request):
    """Everything the portal told this person, newest first; POST marks them all read."""
    if request.method == "POST":
        count = notifications_read(user=request.user)
        messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} as read.")
        return redirect("portal:notifications")
    try:
        before = int(request.GET.get("before", "") or 0)
    except ValueError:
        before = 0
    rows = notifications_page(user=request.user, before=before or None)
    return render(
        request,
        "portal/notifications.html",
        {
            "rows": rows,
            "kinds": KINDS,
            "next_before": rows[-1].pk if len(rows) == NOTIFICATIONS_PAGE else None,
        },
    )


@login_required
def notification_open(request, pk):
    """Follow a notification: it is read, and the page it is about opens (only ever a path of
    this site, so a stored link can never send someone elsewhere)."""
    notification = Notification.objects.filter(user=request.user, pk=pk).first()
    if notification is None:
        raise Http404("No such notification.")
    notifications_read(user=request.user, ids=[notification.pk])
    target = notification.url
    if not url_has_allowed_host_and_scheme(target, allowed_hosts=None) or not target.startswith("/"):
        target = reverse("portal:notifications")
    return redirect(target)


@login_required
@require_POST
def notification_read(request, pk):
    notifications_read(user=request.user, ids=[pk])
    if request.htmx:
        notification = Notification.objects.filter(user=request.user, pk=pk).first()
        if notification is None:
            raise Http404("No such notification.")
        return render(request, "portal/partials/notification.html", {"n": notification, "kinds": KINDS})
    return redirect("portal:notifications")


def _wants_json(request) -> bool:
    return (
        "application/json" in request.headers.get("Accept", "") or request.content_type == "application/json"
    )


def csrf_failure(request, reason=""):
    """JSON clients get JSON; people get a page that says what to do."""
    message = "Your session's security token is missing or out of date; reload the page and try again."
    if _wants_json(request):
        return JsonResponse({"error": message}, status=403)
    return render(request, "403_csrf.html", {"message": message}, status=403)


def page_not_found(request, exception=None):
    if request.path.startswith("/api/") or _wants_json(request):
        return JsonResponse({"error": "not_found", "detail": "Not found."}, status=404)
    return render(request, "404.html", status=404)


def server_error(request):
    if request.path.startswith("/api/") or _wants_json(request):
        return JsonResponse(
            {"error": "server_error", "detail": "Something went wrong on our side."}, status=500
        )
    return render(request, "500.html", status=500)


@never_cache
def healthz(request):
    """The process is alive (a load balancer's liveness probe)."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request):
    """Every part this process depends on, each named with its state; 503 when one is not ready."""
    ready, checks = readiness()
    return JsonResponse(
        {"status": "ready" if ready else "not ready", "checks": checks}, status=200 if ready else 503
    )


@never_cache
def metrics(request):
    """Prometheus metrics (django-prometheus and the portal's own, portal/metrics.py): for a
    scraper on loopback or a private network, or anyone with `Authorization: Bearer METRICS_TOKEN`."""
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token:
        allowed = hmac.compare_digest(given, token)
    else:
        allowed = ipaddress.ip_address(request.META.get("REMOTE_ADDR", "0.0.0.0")).is_private  # noqa: S104
    if not allowed:
        raise Http404("Not found.")
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)


@require_safe
@cache_control(public=True, max_age=86400)
def favicon(request):
    path = settings.BASE_DIR / "static" / "favicon.svg"
    return FileResponse(path.open("rb"), content_type="image/svg+xml")


def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /api/",
        "Disallow: /media/",
        f"# AI training terms of every listed work: {request.build_absolute_uri('/ai.txt')}",
        f"License: {request.build_absolute_uri('/license.xml')}",
        "# AI preferences (IETF aipref) of each work's pages; every page and image also says them",
        "# in its Content-Usage header. Prices and licences: the License document above.",
        *rights.robots_content_usage(),
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


def public_media(request, path):
    """Previews and thumbnails (re-encoded, metadata stripped) of works this visitor may see:
    public works for everyone, drafts for their owner, held and rejected works for their owner
    and moderators. Originals are never under MEDIA_ROOT."""
    if len(path) > MAX_MEDIA_NAME or "\x00" in path:
        raise Http404("No such file.")
    work = (
        Work.objects.select_related("registration")
        .filter(**{("preview" if path.startswith("previews/") else "thumbnail"): path})
        .first()
    )
    if work is None or not work.is_visible_to(request.user):
        raise Http404("No such file.")
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    response["Cache-Control"] = ("public" if work.is_public else "private") + ", max-age=86400"
    return rights.rights_headers(response, request=request, work=work)
