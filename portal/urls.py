from allauth.account.views import logout
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from portal import views
from portal.api import api

portal_patterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("profile/", views.profile, name="profile"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<int:pk>/open", views.notification_open, name="notification_open"),
    path("notifications/<int:pk>/read", views.notification_read, name="notification_read"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics, name="metrics"),
]

_to_signin = RedirectView.as_view(pattern_name="siwe:signin", query_string=True)

# A wallet-only site: of allauth's pages only logout is served. Names allauth reverses in its
# flows (login, signup, an inactive account, a failed social login) lead to the wallet sign-in.
account_patterns = [
    path("logout/", logout, name="account_logout"),
    path("login/", _to_signin, name="account_login"),
    path("signup/", _to_signin, name="account_signup"),
    path("inactive/", _to_signin, name="account_inactive"),
    path("social/signup/", _to_signin, name="socialaccount_signup"),
    path("social/login/error/", _to_signin, name="socialaccount_login_error"),
]

urlpatterns = [
    path("", include((portal_patterns, "portal"))),
    path("auth/", include("portal.siwe.urls")),
    path("", include("works.urls")),
    path("", include("licensing.urls")),
    path("", include("royalties.urls")),
    path("", include("orgs.urls")),
    path("", include("training.urls")),
    path("", include("audits.urls")),
    path("", include("disputes.urls")),
    path("favicon.ico", views.favicon, name="favicon"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    # Previews and thumbnails only, each checked against its work's visibility; originals live
    # outside MEDIA_ROOT.
    re_path(r"^media/(?P<path>(?:previews|thumbnails)/.+)$", views.public_media, name="public_media"),
    path("accounts/", include(account_patterns)),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]

handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"
