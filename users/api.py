"""REST API building blocks: tenant-scoped viewsets over ``TenantOwned`` models.

Querysets are scoped to ``request.tenant`` (set by ``TenantPermission``), so another
tenant's object is a 404.
"""

import functools

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers, viewsets

from .api_auth import HashedTokenAuthentication, TenantPermission, api_tenant

__all__ = [
    "HashedTokenAuthentication",
    "SingletonSchema",
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


class StrictBooleanField(serializers.BooleanField):
    """JSON booleans only: DRF would also take 0/1 and "yes", which the schema does not say."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictString:
    """JSON strings only: DRF's CharField would turn 0 into "0", which the schema does not say."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(StrictString, serializers.CharField):
    pass


@functools.cache
def _strict(field_class):
    return type(f"Strict{field_class.__name__}", (StrictString, field_class), {})


class StrictModelSerializer(serializers.ModelSerializer):
    """Model fields accept exactly the JSON types the schema documents."""

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if issubclass(field_class, serializers.BooleanField):
            field_class = StrictBooleanField
        elif issubclass(field_class, serializers.CharField):
            field_class = _strict(field_class)
        return field_class, kwargs


class SingletonSchema(AutoSchema):
    """For viewsets whose ``list`` answers the tenant's one object (push certificate, Apps and
    Books token, Entra ID connection): documented as an object, not as an array."""

    def _is_list_view(self, serializer=None):
        return False
