"""REST API of mdm: devices with their inventory, their command queue, and removal."""

from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from users.api import TenantScopedReadOnlyViewSet

from . import device_labels, queue, removal, tasks
from .commands import CommandError
from .models import Command, Device, DeviceApp, DeviceProfile


class DeviceAppSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeviceApp
        fields = ["identifier", "name", "version", "short_version", "state", "is_managed"]


class DeviceProfileSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeviceProfile
        fields = ["identifier", "display_name", "payload_uuid", "organization"]


class DeviceSerializer(serializers.ModelSerializer):
    labels = serializers.SerializerMethodField()
    has_push_token = serializers.BooleanField(read_only=True)
    model = serializers.CharField(source="display_model", read_only=True)
    apps = DeviceAppSerializer(many=True, read_only=True)
    profiles = DeviceProfileSerializer(many=True, read_only=True)

    class Meta:
        model = Device
        fields = [
            "id",
            "enrollment_id",
            "user",
            "enrollment_mode",
            "status",
            "managed_apple_id",
            "model",
            "product_name",
            "model_name",
            "device_name",
            "os_version",
            "build_version",
            "capacity_gb",
            "available_capacity_gb",
            "battery_level",
            "security_info",
            "inventory_at",
            "identity_not_after",
            "has_push_token",
            "push_state",
            "terms_accepted",
            "enrolled_at",
            "last_seen_at",
            "unenrolled_at",
            "labels",
            "apps",
            "profiles",
        ]

    def get_labels(self, device) -> list[str]:
        return [str(text) for _, text in device_labels.labels(device)]


class CommandSerializer(serializers.ModelSerializer):
    class Meta:
        model = Command
        fields = [
            "uuid",
            "request_type",
            "arguments",
            "status",
            "priority",
            "attempts",
            "not_now_count",
            "origin",
            "result",
            "error_chain",
            "created_at",
            "sent_at",
            "answered_at",
        ]


class CommandRequestSerializer(serializers.Serializer):
    """``request_type`` plus the command's own arguments in Apple's key names, e.g.
    ``{"request_type": "RemoveProfile", "Identifier": "com.example.wifi"}``."""

    request_type = serializers.CharField(max_length=64)

    def validate(self, attrs):
        arguments = {k: v for k, v in self.initial_data.items() if k != "request_type"}
        return {**attrs, "arguments": arguments}


class DeviceViewSet(mixins.DestroyModelMixin, TenantScopedReadOnlyViewSet):
    queryset = Device.objects.all()
    serializer_class = DeviceSerializer

    def get_queryset(self):
        queryset = super().get_queryset().select_related("user")
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("apps", "profiles")
        return queryset

    def get_serializer_class(self):
        if self.action == "list":
            return _DeviceListSerializer
        return super().get_serializer_class()

    @extend_schema(
        responses={202: OpenApiResponse(description="removal queued"), 204: None},
        description="Removes management (RemoveProfile is queued and the device pushed); an "
        "unenrolled device is deleted.",
    )
    def destroy(self, request, *args, **kwargs):
        device = self.get_object()
        with transaction.atomic():
            queued = removal.remove_management(device, account=request.user)
            if queued:
                tasks.push_after_commit([device.pk])
        return Response(status=status.HTTP_202_ACCEPTED if queued else status.HTTP_204_NO_CONTENT)

    @extend_schema(
        methods=["GET"], responses=CommandSerializer(many=True), description="Command history."
    )
    @extend_schema(
        methods=["POST"],
        request=CommandRequestSerializer,
        responses={201: CommandSerializer, 400: OpenApiResponse(description="refused command")},
        description="Queue a command (user-enrollment-allowed RequestTypes only) and push.",
    )
    @action(detail=True, methods=["get", "post"])
    def commands(self, request, pk=None):
        device = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(device.commands.all())
            data = CommandSerializer(
                page if page is not None else device.commands.all(), many=True
            ).data
            return self.get_paginated_response(data) if page is not None else Response(data)
        if not isinstance(request.data, dict):
            return Response({"detail": "Send a JSON object."}, status=400)
        serializer = CommandRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                command = queue.enqueue_request(
                    device,
                    serializer.validated_data["request_type"],
                    serializer.validated_data["arguments"],
                    origin=Command.Origin.API,
                    account=request.user,
                )
                tasks.push_after_commit([device.pk])
        except CommandError as exc:
            return Response({"detail": str(exc)}, status=400)
        return Response(CommandSerializer(command).data, status=201)

    @extend_schema(request=None, responses={202: CommandSerializer(many=True)})
    @action(detail=True, methods=["post"], url_path="refresh-inventory")
    def refresh_inventory(self, request, pk=None):
        device = self.get_object()
        if not device.is_manageable:
            return Response({"detail": "The device is not enrolled."}, status=400)
        with transaction.atomic():
            commands = queue.request_inventory(
                device, origin=Command.Origin.API, account=request.user
            )
            tasks.push_after_commit([device.pk])
        return Response(CommandSerializer(commands, many=True).data, status=202)


class _DeviceListSerializer(DeviceSerializer):
    class Meta(DeviceSerializer.Meta):
        fields = [
            f
            for f in DeviceSerializer.Meta.fields
            if f not in ("apps", "profiles", "security_info")
        ]
