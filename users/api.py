"""REST API building blocks: tenant-scoped viewsets over ``TenantOwned`` models.

Querysets are scoped to ``request.tenant`` (set by ``TenantPermission``), so another
tenant's object is a 404.
"""

from rest_framework import viewsets

from .api_auth import HashedTokenAuthentication, TenantPermission, api_tenant

__all__ = [
    "HashedTokenAuthentication",
    "TenantPermission",
    "TenantScopedReadOnlyViewSet",
    "TenantScopedViewSet",
    "api_tenant",
]


class TenantScopedViewSet(viewsets.ModelViewSet):
    """A viewset over a ``TenantOwned`` model; set ``queryset`` or override ``base_queryset``."""

    def base_queryset(self):
        return self.queryset.model.objects.all()

    def get_queryset(self):
        return self.base_queryset().filter(tenant=self.request.tenant)

    def perform_create(self, serializer):
        serializer.save(tenant=self.request.tenant)


class TenantScopedReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    def base_queryset(self):
        return self.queryset.model.objects.all()

    def get_queryset(self):
        return self.base_queryset().filter(tenant=self.request.tenant)
