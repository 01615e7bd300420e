from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import include, path

from config import metrics
from meetings.throttle import ThrottledAdminAuthenticationForm, ThrottledLoginView
from recordings import spool
from recordings.models import Recording

admin.site.site_header = "Live recording admin"
admin.site.site_title = "Live recording admin"
# The admin's sign-in is throttled like the site's (meetings/throttle.py).
admin.site.login_form = ThrottledAdminAuthenticationForm


def _warn_of_spool_shortage(request: HttpRequest) -> None:
    """Staff see, on the admin's front page and the recordings list, that the spool is short of space."""
    shortage = spool.shortage()
    if shortage is not None:
        messages.error(request, shortage.message)


def admin_index(request: HttpRequest) -> HttpResponseBase:
    _warn_of_spool_shortage(request)
    return admin.site.index(request)


def recordings_changelist(request: HttpRequest) -> HttpResponseBase:
    _warn_of_spool_shortage(request)
    return admin.site.get_model_admin(Recording).changelist_view(request)


# Django's error pages (templates/404.html, 500.html), whatever the request's body (config/errors.py).
handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"

urlpatterns = [
    # Before the admin's own URLs, which they wrap: the same pages plus the spool's alert (decision 0011).
    path("admin/", admin.site.admin_view(admin_index)),
    path("admin/recordings/recording/", admin.site.admin_view(recordings_changelist)),
    path("admin/", admin.site.urls),
    path("login/", ThrottledLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("rooms.urls")),
    path("", include("media_library.urls")),
    path("", include("api.urls")),  # /api/v1/ (docs/integrations.md) and the API tokens settings page
    path("", include("webhooks.urls")),  # a room owner's webhooks page (docs/integrations.md)
    path("", include("lti.urls")),  # /lti/: LTI 1.3 login, launch, JWKS, Deep Linking (docs/integrations.md)
    path("metrics/", metrics.metrics, name="metrics"),  # Prometheus, staff or bearer token (docs/deploy.md)
]
