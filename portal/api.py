"""The REST API: one router; each app lists its viewsets in ``<app>/api_routes.py``.

An app's module exposes ``routes = [(prefix, viewset, basename), ...]``.
"""

from importlib import import_module

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from .api_views import AuditEventViewSet, TenantView

APPS_WITH_ROUTES = ["users", "portal.mobile_settings", "enrollment", "mdm"]

router = DefaultRouter()
router.register("audit-events", AuditEventViewSet, basename="auditevent")
for app in APPS_WITH_ROUTES:
    try:
        module = import_module(f"{app}.api_routes")
    except ModuleNotFoundError as exc:
        if exc.name != f"{app}.api_routes":
            raise
        continue
    for prefix, viewset, basename in module.routes:
        router.register(prefix, viewset, basename=basename)

urlpatterns = [
    path("tenant/", TenantView.as_view(), name="api-tenant"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its script as a file: the docs page satisfies the CSP too.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include(router.urls)),
]
