"""API views of the portal itself: the acting tenant and its audit log."""

from rest_framework import serializers
from rest_framework.generics import RetrieveAPIView

from users.api import TenantScopedReadOnlyViewSet
from users.models import AuditEvent, Tenant


class TenantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tenant
        fields = ["id", "name", "number", "is_active", "apple_reenrollment_enabled"]
        read_only_fields = fields


class TenantView(RetrieveAPIView):
    """The tenant this request acts for."""

    serializer_class = TenantSerializer

    def get_object(self):
        return self.request.tenant


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "actor_label",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "details",
        ]
        read_only_fields = fields


class AuditEventViewSet(TenantScopedReadOnlyViewSet):
    queryset = AuditEvent.objects.all()
    serializer_class = AuditEventSerializer
