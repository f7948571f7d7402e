"""REST API of mdm: devices (read; delete = remove from the portal)."""

from rest_framework import mixins, serializers

from users.api import TenantScopedReadOnlyViewSet

from . import device_labels
from .devices import remove_device
from .models import Device


class DeviceSerializer(serializers.ModelSerializer):
    labels = serializers.SerializerMethodField()
    has_push_token = serializers.BooleanField(read_only=True)

    class Meta:
        model = Device
        fields = [
            "id",
            "enrollment_id",
            "user",
            "enrollment_mode",
            "status",
            "managed_apple_id",
            "product_name",
            "os_version",
            "build_version",
            "identity_not_after",
            "has_push_token",
            "enrolled_at",
            "last_seen_at",
            "unenrolled_at",
            "labels",
        ]

    def get_labels(self, device) -> list[str]:
        return [str(text) for _, text in device_labels.labels(device)]


class DeviceViewSet(mixins.DestroyModelMixin, TenantScopedReadOnlyViewSet):
    queryset = Device.objects.all()
    serializer_class = DeviceSerializer

    def get_queryset(self):
        return device_labels.with_terms_state(
            super().get_queryset().select_related("user"), self.request.tenant
        )

    def perform_destroy(self, instance):
        remove_device(instance, account=self.request.user)
