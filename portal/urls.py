from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from portal import views

portal_patterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("profile/", views.profile, name="profile"),
    path("healthz", views.healthz, name="healthz"),
]

urlpatterns = [
    path("", include((portal_patterns, "portal"))),
    path("auth/", include("portal.siwe.urls")),
    path("", include("works.urls")),
    path("", include("licensing.urls")),
    # Public previews and thumbnails only; originals live outside MEDIA_ROOT.
    re_path(r"^media/(?P<path>(?:previews|thumbnails)/.+)$", views.public_media, name="public_media"),
    # Wallet sign-in is the only way in: allauth's password login and signup point there.
    path("accounts/login/", RedirectView.as_view(pattern_name="siwe:signin", query_string=True)),
    path("accounts/signup/", RedirectView.as_view(pattern_name="siwe:signin", query_string=True)),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]
