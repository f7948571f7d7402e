"""REST API of the app catalogue: apps, tags and their members, per-user licence state and
per-device install state. Everything is scoped to the token's tenant (another tenant's
object is a 404); the work that follows a change (licences, pushes) is enqueued after commit.
"""

from django.db import IntegrityError, transaction
from django.db.models import Count
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from users.api import (
    StrictCharField,
    StrictModelSerializer,
    TenantScopedReadOnlyViewSet,
    TenantScopedViewSet,
)
from users.audit import record
from users.models import ManagedUser, Tag
from users.tags import TagError, checked_color, checked_name

from . import app_catalogue, app_configuration, app_reach, tasks
from .models import App, AppInstallation, Device, Licence


class TagNames(serializers.ListField):
    child = StrictCharField(max_length=64)

    def to_representation(self, manager):
        return [tag.name for tag in manager.all()]


class TenantIds(serializers.ListField):
    """Ids of the tenant's objects of ``model``; an id of another tenant is refused like one
    that does not exist."""

    child = serializers.IntegerField(min_value=1, max_value=2**63 - 1)

    def __init__(self, model, **kwargs):
        self.model = model
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        ids = set(super().to_internal_value(data))
        tenant = self.context["request"].tenant
        found = set(
            self.model.objects.for_tenant(tenant).filter(pk__in=ids).values_list("pk", flat=True)
        )
        if found != ids:
            raise ValidationError(f"Unknown ids: {sorted(ids - found)[:10]}")
        return sorted(ids)

    def to_representation(self, manager):
        return [obj.pk for obj in manager.all()]


class LicenceCountsSerializer(serializers.Serializer):
    """Apple's counts of the app's asset (null when none is synced), the users the app reaches,
    how many of them are beyond the licences bought, and its users by licence state."""

    total = serializers.IntegerField(allow_null=True)
    assigned = serializers.IntegerField(allow_null=True)
    available = serializers.IntegerField(allow_null=True)
    reached = serializers.IntegerField()
    shortfall = serializers.IntegerField()
    users = serializers.DictField(child=serializers.IntegerField())


class AppSerializer(StrictModelSerializer):
    adam_id = StrictCharField(max_length=32)
    tags = TagNames(required=False)
    devices = TenantIds(Device, required=False)
    configuration = serializers.JSONField(required=False)
    licence_counts = serializers.SerializerMethodField()

    class Meta:
        model = App
        fields = [
            "id",
            "adam_id",
            "name",
            "bundle_id",
            "icon_url",
            "version",
            "platforms",
            "install_mode",
            "remove_on_unenroll",
            "prevent_backup",
            "configuration",
            "tags",
            "devices",
            "licence_counts",
            "metadata_fetched_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "bundle_id",
            "icon_url",
            "version",
            "platforms",
            "metadata_fetched_at",
            "created_at",
            "updated_at",
        ]

    def get_licence_counts(self, app) -> LicenceCountsSerializer:
        return LicenceCountsSerializer(app_reach.licence_counts(app)).data

    def validate_adam_id(self, value):
        if self.instance is not None and value != self.instance.adam_id:
            raise ValidationError("The adamId of an app cannot change.")
        return value

    def validate_configuration(self, value):
        try:
            return app_configuration.parse(value)
        except app_configuration.ConfigurationError as exc:
            raise ValidationError(str(exc)) from exc


@extend_schema_view(
    create=extend_schema(description="Add an app of the tenant's synced Apps and Books assets."),
    destroy=extend_schema(
        description="Remove the app from the catalogue: RemoveApplication for the devices that "
        "have it, and its licences go back to the pool."
    ),
)
class AppViewSet(TenantScopedViewSet):
    queryset = App.objects.all()
    serializer_class = AppSerializer

    def base_queryset(self):
        return (
            App.objects.select_related("asset")
            .prefetch_related("tags", "devices")
            .order_by("name", "adam_id", "pk")
        )

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        tenant = self.request.tenant
        try:
            with transaction.atomic():
                app = app_catalogue.add_app(tenant, data.pop("adam_id"), **data)
                record(self.request.user, "app.added", app)
                tasks.catalogue_changed_after_commit(tenant.pk, app_ids=[app.pk], added=app.pk)
        except app_catalogue.CatalogueError as exc:
            raise ValidationError({"adam_id": [str(exc)]}) from exc
        serializer.instance = app

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("adam_id", None)
        app = serializer.instance
        with transaction.atomic():
            pushed = app_catalogue.update_settings(app, **data)
            record(self.request.user, "app.updated", app)
            tasks.catalogue_changed_after_commit(app.tenant_id, app_ids=[app.pk], push=pushed)

    def perform_destroy(self, instance):
        with transaction.atomic():
            record(self.request.user, "app.deleted", instance, adam_id=instance.adam_id)
            pushed, release = app_catalogue.delete_app(instance)
            tasks.catalogue_changed_after_commit(instance.tenant_id, push=pushed, release=release)


class LicenceSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    managed_apple_id = serializers.CharField(source="user.managed_apple_id", read_only=True)

    class Meta:
        model = Licence
        fields = [
            "id",
            "app",
            "user",
            "username",
            "managed_apple_id",
            "state",
            "requested",
            "error_number",
            "error_text",
            "updated_at",
        ]


def _int_param(request, name):
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    if not value.isdigit() or len(value) > 18:
        raise ValidationError({name: ["A number."]})
    return int(value)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("app", int, description="Only this app's licences."),
            OpenApiParameter("user", int, description="Only this user's licences."),
            OpenApiParameter("state", str, enum=Licence.State.values),
        ]
    )
)
class LicenceViewSet(TenantScopedReadOnlyViewSet):
    """Per-user Apps and Books licence state (pending, assigned, no licence, failed with
    Apple's error number and text, …)."""

    queryset = Licence.objects.all()
    serializer_class = LicenceSerializer

    def get_queryset(self):
        rows = super().get_queryset().select_related("user")
        for name in ("app", "user"):
            value = _int_param(self.request, name)
            if value is not None:
                rows = rows.filter(**{f"{name}_id": value})
        state = self.request.query_params.get("state")
        if state:
            if state not in Licence.State.values:
                raise ValidationError({"state": ["Unknown state."]})
            rows = rows.filter(state=state)
        return rows.order_by("pk")


class AppInstallationSerializer(serializers.ModelSerializer):
    class Meta:
        model = AppInstallation
        fields = ["id", "app", "device", "state", "error", "identifier", "version", "updated_at"]


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("app", int, description="Only this app's installations."),
            OpenApiParameter("device", int, description="Only this device's installations."),
        ]
    )
)
class AppInstallationViewSet(TenantScopedReadOnlyViewSet):
    """Per-device install state of catalogue apps (queued, installing, installed, failed,
    installed privately, removing)."""

    queryset = AppInstallation.objects.all()
    serializer_class = AppInstallationSerializer

    def get_queryset(self):
        rows = super().get_queryset()
        for name in ("app", "device"):
            value = _int_param(self.request, name)
            if value is not None:
                rows = rows.filter(**{f"{name}_id": value})
        return rows.order_by("pk")


class TagSerializer(StrictModelSerializer):
    users = serializers.IntegerField(source="user_count", read_only=True)
    devices = serializers.IntegerField(source="device_count", read_only=True)
    apps = serializers.IntegerField(source="app_count", read_only=True)

    class Meta:
        model = Tag
        fields = ["id", "name", "color", "users", "devices", "apps"]

    def validate_name(self, value):
        tenant, pk = self.context["request"].tenant, getattr(self.instance, "pk", None)
        try:
            return checked_name(tenant, value, exclude_pk=pk)
        except TagError as exc:
            raise ValidationError(str(exc)) from exc

    def validate_color(self, value):
        try:
            return checked_color(value)
        except TagError as exc:
            raise ValidationError(str(exc)) from exc


class MembersSerializer(serializers.Serializer):
    users = TenantIds(ManagedUser, required=False)
    devices = TenantIds(Device, required=False)
    apps = TenantIds(App, required=False)


class MemberListSerializer(serializers.Serializer):
    users = serializers.ListField(child=serializers.IntegerField())
    devices = serializers.ListField(child=serializers.IntegerField())
    apps = serializers.ListField(child=serializers.IntegerField())


class TagViewSet(TenantScopedViewSet):
    """Tags group users, devices and apps: a device gets the automatic apps whose tags are its
    own or its user's."""

    queryset = Tag.objects.all()
    serializer_class = TagSerializer

    def base_queryset(self):
        return Tag.objects.annotate(
            user_count=Count("users", distinct=True),
            device_count=Count("devices", distinct=True),
            app_count=Count("apps", distinct=True),
        ).order_by("name", "pk")

    def _counted(self, serializer):
        """The saved tag again, with its member counts."""
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_create(self, serializer):
        try:
            with transaction.atomic():
                record(
                    self.request.user, "tag.created", serializer.save(tenant=self.request.tenant)
                )
        except IntegrityError as exc:  # the same name, in another case, at the same moment
            raise ValidationError({"name": ["A tag with this name exists already."]}) from exc
        self._counted(serializer)

    def perform_update(self, serializer):
        try:
            with transaction.atomic():
                record(self.request.user, "tag.updated", serializer.save())
        except IntegrityError as exc:
            raise ValidationError({"name": ["A tag with this name exists already."]}) from exc
        self._counted(serializer)

    def perform_destroy(self, instance):
        with transaction.atomic():
            record(self.request.user, "tag.deleted", instance, name=instance.name)
            instance.delete()  # mdm.receivers: its devices are due, licences looked at again

    def _members(self, tag) -> dict:
        return {
            "users": list(tag.users.values_list("pk", flat=True)),
            "devices": list(tag.devices.values_list("pk", flat=True)),
            "apps": list(tag.apps.values_list("pk", flat=True)),
        }

    @extend_schema(methods=["GET"], responses=MemberListSerializer, description="Members.")
    @extend_schema(
        methods=["POST"],
        request=MembersSerializer,
        responses={200: MemberListSerializer, 400: OpenApiResponse(description="unknown ids")},
        description="Add users, devices and apps to the tag.",
    )
    @action(detail=True, methods=["get", "post"])
    def members(self, request, pk=None):
        tag = self.get_object()
        if request.method == "POST":
            self._change(tag, request, add=True)
        return Response(self._members(tag))

    @extend_schema(
        request=MembersSerializer,
        responses={200: MemberListSerializer, 400: OpenApiResponse(description="unknown ids")},
        description="Remove users, devices and apps from the tag.",
    )
    @action(detail=True, methods=["post"], url_path="remove-members")
    def remove_members(self, request, pk=None):
        tag = self.get_object()
        self._change(tag, request, add=False)
        return Response(self._members(tag))

    def _change(self, tag, request, *, add: bool):
        if not isinstance(request.data, dict):
            raise ValidationError({"detail": "Send a JSON object."})
        serializer = MembersSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            # The m2m receivers (mdm.receivers) mark the devices due and look at licences again.
            for name in ("users", "devices", "apps"):
                if data.get(name):
                    manager = getattr(tag, name)
                    (manager.add if add else manager.remove)(*data[name])
            record(request.user, "tag.members_changed", tag, added=add)
