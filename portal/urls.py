"""Root URLs, one block per audience.

- Admins (browser, session + CSRF): the portal sections and the REST API under /api/.
- Devices (Apple's protocols, no session, no CSRF): /.well-known/, /enroll/, /scep/, /mdm/.
- End users (browser on the phone or desktop): web login, password set-up, terms, self-service
  apps.
"""

from django.conf import settings
from django.conf.urls.static import static
from django.templatetags.static import static as static_url
from django.urls import include, path
from django.views.generic import RedirectView

from . import views
from .metrics import metrics_view

admin_urls = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("tenant/switch/", views.switch_tenant, name="switch-tenant"),
    path("audit/", views.AuditLogView.as_view(), name="audit"),
    path("audit/<int:pk>/", views.AuditEventDetailView.as_view(), name="audit-detail"),
    path("api-tokens/", views.ApiTokenView.as_view(), name="api-tokens"),
]

urlpatterns = [
    # Devices first, then the end users' pages: a device request is the most frequent kind and
    # resolves in a few steps (no path of one block is a path of another).
    path("", include("mdm.public_urls")),
    path("", include("enrollment.public_urls")),
    path("", include("enrollment.scep.urls")),
    path("", include("apple.public_urls")),
    # End users
    path("", include("enrollment.enduser_urls")),
    path("", include("users.enduser_urls")),
    path("", include("mdm.enduser_urls")),
    # Admins
    path("", include((admin_urls, "portal"))),
    path("i18n/", include("django.conf.urls.i18n")),
    # Pages link the SVG icon; clients that ask for /favicon.ico by habit get it too.
    path("favicon.ico", RedirectView.as_view(url=static_url("portal/favicon.svg"), permanent=True)),
    path("mobile-security/settings/", include("portal.mobile_settings.urls")),
    path("mobile-security/profiles/", include("enrollment.urls")),
    path("mobile-security/devices/", include("enrollment.invitation_urls")),
    path("mobile-security/", include("mdm.urls")),
    path("users/", include("users.urls")),
    path("api/", include("portal.api")),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
]

if settings.DEBUG:
    urlpatterns += static(settings.STATIC_URL, document_root=settings.STATIC_ROOT)

# The API answers unknown URLs in JSON like every other API error (and as its schema says).
handler404 = "portal.views.page_not_found"
