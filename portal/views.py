from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import models
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from django.views.static import serve

from licensing import rights
from licensing.selectors import licence_counts
from portal.forms import ProfileForm
from portal.selectors import profile_for_user, wallet_address_for_user
from portal.services import profile_update
from works.models import Work
from works.selectors import works_for_owner


def home(request):
    return render(request, "portal/home.html")


@login_required
def dashboard(request):
    return render(
        request,
        "portal/dashboard.html",
        {
            "profile": profile_for_user(user=request.user),
            "works": works_for_owner(user=request.user),
            "licence_counts": licence_counts(user=request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    current = profile_for_user(user=request.user)
    form = ProfileForm(request.POST or None, initial={"display_name": current.display_name})
    if request.method == "POST" and form.is_valid():
        profile_update(user=request.user, display_name=form.cleaned_data["display_name"])
        messages.success(request, "Profile saved.")
        return redirect("portal:profile")
    return render(
        request,
        "portal/profile.html",
        {"form": form, "profile": current, "address": wallet_address_for_user(user=request.user)},
        status=400 if form.errors else 200,
    )


def csrf_failure(request, reason=""):
    """JSON clients get JSON; people get a page that says what to do."""
    message = "Your session's security token is missing or out of date; reload the page and try again."
    if "application/json" in request.headers.get("Accept", "") or request.content_type == "application/json":
        return JsonResponse({"error": message}, status=403)
    return render(request, "403_csrf.html", {"message": message}, status=403)


def healthz(request):
    return JsonResponse({"status": "ok"})


def public_media(request, path):
    """Previews and thumbnails (re-encoded, metadata stripped). Production serves these from
    object storage or the web server; originals are never under MEDIA_ROOT."""
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    response["Cache-Control"] = "public, max-age=86400"
    work = Work.objects.filter(models.Q(preview=path) | models.Q(thumbnail=path)).first()
    if work is not None:
        rights.rights_headers(response, request=request, work=work)
    else:
        response["X-Robots-Tag"] = "noai, noimageai"
    return response
