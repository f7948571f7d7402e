"""REST API of mdm: devices with their inventory and profile states, their configuration (name,
tags, directly assigned profiles: PATCH), their command queue, and removal."""

from django.db import transaction
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from users.api import StrictCharField, TenantScopedReadOnlyViewSet

from . import device_labels, device_settings, queue, removal, tasks
from .commands import CommandError
from .device_pages import InvalidCursor, device_page, encode_cursor, search_devices
from .models import Command, Device, DeviceApp, DeviceProfile


class DeviceAppSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeviceApp
        fields = ["identifier", "name", "version", "short_version", "state", "is_managed"]


class DeviceProfileSerializer(serializers.ModelSerializer):
    """A profile on the device: ``state`` empty when only reported by the device, else the
    portal's delivery state; ``profile`` the configuration profile's id when the portal
    delivered it."""

    class Meta:
        model = DeviceProfile
        fields = [
            "identifier",
            "display_name",
            "payload_uuid",
            "organization",
            "profile",
            "state",
            "error_chain",
            "installed_revision",
            "queued_revision",
            "updated_at",
        ]


class TagNames(serializers.ListField):
    child = StrictCharField(max_length=64)

    def to_representation(self, manager):
        return [tag.name for tag in manager.all()]


class TenantProfiles(serializers.PrimaryKeyRelatedField):
    """Ids of the acting tenant's configuration profiles (another tenant's id does not exist)."""

    def get_queryset(self):
        return device_settings.tenant_profiles(self.context["request"].tenant)


DEVICE_FIELDS = [
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
    "name",
    "tags",
    "direct_profiles",
    "apps",
    "profiles",
]
WRITABLE = ("name", "tags", "direct_profiles")


class DeviceSerializer(serializers.ModelSerializer):
    labels = serializers.SerializerMethodField()
    has_push_token = serializers.BooleanField(read_only=True)
    model = serializers.CharField(source="display_model", read_only=True)
    apps = DeviceAppSerializer(many=True, read_only=True)
    profiles = DeviceProfileSerializer(many=True, read_only=True)
    name = StrictCharField(max_length=120, required=False, allow_blank=True)
    tags = TagNames(required=False)
    direct_profiles = TenantProfiles(many=True, required=False)

    class Meta:
        model = Device
        fields = DEVICE_FIELDS
        read_only_fields = [f for f in DEVICE_FIELDS if f not in WRITABLE]

    def get_labels(self, device) -> list[str]:
        request = self.context.get("request")
        enabled = bool(request and request.tenant.apple_reenrollment_enabled)
        return [str(text) for _, text in device_labels.labels(device, renewal_enabled=enabled)]

    def update(self, device, validated_data):
        with transaction.atomic():
            ids = device_settings.update_device(
                device,
                account=self.context["request"].user,
                name=validated_data.get("name"),
                tag_names=validated_data.get("tags"),
                profiles=validated_data.get("direct_profiles"),
            )
            tasks.push_after_commit(ids)
        return device


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


class DeviceCursorPagination(CursorPagination):
    """Keyset pages in the model's ordering (last seen, never seen last; created; id), the
    same pages as the portal's device list: ``next``/``previous`` plus ``first``/``last``
    links with an opaque signed cursor; no total (it would count every row). A cursor that is
    not one of ours is a 400."""

    page_size = 50
    ordering = ("-last_seen_at", "-created_at", "-id")  # documents Device.Meta.ordering

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.base_url = request.build_absolute_uri()
        try:
            self.page = device_page(
                queryset, request.query_params.get(self.cursor_query_param), self.page_size
            )
        except InvalidCursor as exc:
            raise ValidationError({self.cursor_query_param: ["Invalid cursor."]}) from exc
        return self.page.devices

    def _link(self, cursor):
        if cursor is None:
            return remove_query_param(self.base_url, self.cursor_query_param)
        return replace_query_param(self.base_url, self.cursor_query_param, cursor)

    def get_next_link(self):
        return self._link(self.page.next_cursor) if self.page.next_cursor else None

    def get_previous_link(self):
        return self._link(self.page.previous_cursor) if self.page.previous_cursor else None

    def get_paginated_response(self, data):
        return Response(
            {
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "first": self._link(None),
                "last": self._link(encode_cursor("last")),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        link = {"type": "string", "format": "uri", "nullable": False}
        response["properties"] = {
            **{k: v for k, v in response["properties"].items() if k != "results"},
            "first": link,
            "last": link,
            "results": response["properties"]["results"],
        }
        response["required"] = ["results"]
        return response


# What the list serializer reads: its fields, has_push_token, model and labels.
_LIST_FIELDS = (
    "id",
    "tenant_id",
    "user_id",
    "enrollment_id",
    "enrollment_mode",
    "status",
    "managed_apple_id",
    "product_name",
    "model_name",
    "device_name",
    "os_version",
    "build_version",
    "capacity_gb",
    "available_capacity_gb",
    "battery_level",
    "inventory_at",
    "identity_not_after",
    "name",
    "push_token",
    "push_magic",
    "push_state",
    "terms_accepted",
    "enrolled_at",
    "last_seen_at",
    "unenrolled_at",
    "created_at",
)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "q",
                str,
                description="Part of the user's username or last name, the product "
                "name or the device name (case-insensitive).",
            )
        ]
    )
)
class DeviceViewSet(mixins.UpdateModelMixin, mixins.DestroyModelMixin, TenantScopedReadOnlyViewSet):
    queryset = Device.objects.all()
    serializer_class = DeviceSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            queryset = queryset.only(*_LIST_FIELDS)
            q = self.request.query_params.get("q", "").strip()
            return search_devices(queryset, self.request.tenant, q) if q else queryset
        queryset = queryset.select_related("user").prefetch_related("tags", "direct_profiles")
        if self.action in ("retrieve", "update", "partial_update"):
            queryset = queryset.prefetch_related("apps", "profiles")
        return queryset

    pagination_class = DeviceCursorPagination

    @property
    def paginator(self):
        """Keyset pages for the device list; numbered pages elsewhere (command history)."""
        if not hasattr(self, "_paginator"):
            self._paginator = (
                DeviceCursorPagination() if self.action == "list" else PageNumberPagination()
            )
        return self._paginator

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
            if f not in ("apps", "profiles", "security_info", "tags", "direct_profiles")
        ]
