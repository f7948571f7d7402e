"""REST API of the users app: managed users, CSV imports, the Entra ID sync."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, parsers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from users.api import SingletonSchema

from .api import (
    StrictCharField,
    StrictModelSerializer,
    TenantScopedReadOnlyViewSet,
    TenantScopedViewSet,
)
from .audit import record
from .imports import csv_service
from .imports import tasks as import_tasks
from .imports.models import CsvImport, EntraConnection
from .models import ManagedUser
from .signals import changed_details, details_of, send_details_changed
from .tags import tags_for_names


class TagNames(serializers.ListField):
    child = StrictCharField(max_length=64)

    def to_representation(self, manager):
        return [tag.name for tag in manager.all()]


class ManagedUserSerializer(StrictModelSerializer):
    tags = TagNames(required=False)

    class Meta:
        model = ManagedUser
        fields = [
            "id",
            "username",
            "first_name",
            "last_name",
            "email",
            "managed_apple_id",
            "comment",
            "tags",
            "source",
            "external_id",
            "is_active",
            "language",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["source", "external_id", "created_at", "updated_at"]

    def validate_username(self, value):
        from .models import username_validator

        username_validator(value)
        tenant = self.context["request"].tenant
        clash = ManagedUser.objects.for_tenant(tenant).filter(username__iexact=value)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError("A user with this username exists already.")
        return value

    def _set_tags(self, user, names):
        if names is None:
            return
        user.tags.set(tags_for_names(user.tenant, names))

    def create(self, validated_data):
        names = validated_data.pop("tags", None)
        user = super().create(validated_data)
        self._set_tags(user, names)
        return user

    def update(self, instance, validated_data):
        names = validated_data.pop("tags", None)
        before = details_of(instance)
        user = super().update(instance, validated_data)
        self._set_tags(user, names)
        send_details_changed(ManagedUser, {user.pk: changed_details(before, user)})
        return user


class ManagedUserViewSet(TenantScopedViewSet):
    queryset = ManagedUser.objects.all()
    serializer_class = ManagedUserSerializer

    def get_queryset(self):
        users = super().get_queryset().prefetch_related("tags")
        if q := self.request.query_params.get("search"):
            users = users.filter(username__icontains=q) | users.filter(email__icontains=q)
        return users

    def perform_create(self, serializer):
        record(
            self.request.user, "managed_user.created", serializer.save(tenant=self.request.tenant)
        )

    @extend_schema(
        responses={(200, "text/csv"): OpenApiTypes.STR},
        description="All managed users of the tenant as CSV (the import's columns); cells that "
        "a spreadsheet would run as a formula start with ``'``.",
    )
    @action(detail=False, methods=["get"], url_path="export.csv", url_name="export")
    def export(self, request):
        from .views import export_response

        record(request.user, "users.csv_exported", tenant=request.tenant)
        return export_response(request.tenant)

    def perform_update(self, serializer):
        record(self.request.user, "managed_user.updated", serializer.save())

    def perform_destroy(self, instance):
        record(self.request.user, "managed_user.deleted", instance)
        instance.delete()


class CsvImportSerializer(serializers.ModelSerializer):
    file = serializers.FileField(write_only=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = CsvImport
        fields = [
            "id",
            "file",
            "file_name",
            "state",
            "mode",
            "total_rows",
            "valid_rows",
            "invalid_rows",
            "new_rows",
            "existing_rows",
            "created",
            "updated",
            "skipped",
            "problems",
            "error",
            "progress",
            "created_at",
            "finished_at",
        ]
        read_only_fields = [f for f in fields if f != "file"]

    def get_progress(self, item) -> int:
        return csv_service.progress(item)


class CsvImportConfirm(serializers.Serializer):
    mode = serializers.ChoiceField(choices=CsvImport.Mode.choices, required=False)


class CsvImportViewSet(mixins.CreateModelMixin, TenantScopedReadOnlyViewSet):
    """POST a CSV file (multipart ``file``): it is validated; then POST ``confirm`` with a
    ``mode`` (``skip`` or ``all``) to import. GET shows progress and the report."""

    queryset = CsvImport.objects.all()
    serializer_class = CsvImportSerializer
    parser_classes = [parsers.MultiPartParser, parsers.JSONParser]

    @extend_schema(request={"multipart/form-data": CsvImportSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            item = csv_service.start(
                request.tenant, serializer.validated_data["file"], account=request.user
            )
        except csv_service.UploadTooLarge as exc:
            raise ValidationError({"file": [str(exc)]}) from exc
        import_tasks.validate_csv_import.delay(item.pk)
        item.refresh_from_db()
        return Response(self.get_serializer(item).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CsvImportConfirm, responses=CsvImportSerializer)
    @action(detail=True, methods=["post"], parser_classes=[parsers.JSONParser])
    def confirm(self, request, pk=None):
        item = self.get_object()
        mode = request.data.get("mode", CsvImport.Mode.SKIP_INVALID)
        if mode not in CsvImport.Mode.values:
            raise ValidationError({"mode": ["skip or all"]})
        if item.state != CsvImport.State.PREVIEW:
            raise ValidationError({"state": [f"cannot import in state {item.state}"]})
        csv_service.confirm(item, mode, account=request.user)
        import_tasks.run_csv_import.delay(item.pk)
        item.refresh_from_db()
        return Response(self.get_serializer(item).data)


class EntraSyncSerializer(serializers.Serializer):
    configured = serializers.BooleanField()
    directory_id = serializers.CharField(required=False)
    scope = serializers.CharField(required=False)
    last_sync_at = serializers.DateTimeField(required=False, allow_null=True)
    last_result = serializers.DictField(required=False)
    last_error = serializers.CharField(required=False)


class EntraSyncStarted(serializers.Serializer):
    started = serializers.BooleanField()


class EntraSyncViewSet(viewsets.ViewSet):
    """GET: the Entra ID connection's last sync. POST: start a sync now."""

    serializer_class = EntraSyncSerializer
    schema = SingletonSchema()

    @extend_schema(responses=EntraSyncSerializer)
    def list(self, request):
        connection = EntraConnection.objects.for_tenant(request.tenant).first()
        if connection is None:
            return Response({"configured": False})
        return Response(
            {
                "configured": True,
                "directory_id": connection.directory_id,
                "scope": connection.scope,
                "last_sync_at": connection.last_sync_at,
                "last_result": connection.last_result,
                "last_error": connection.last_error,
                "running": connection.is_running,
                "progress": connection.run_progress,
            }
        )

    @extend_schema(request=None, responses={202: EntraSyncStarted})
    def create(self, request):
        from .imports import entra
        from .imports.tasks import sync_entra_connection

        connection = EntraConnection.objects.for_tenant(request.tenant).first()
        if connection is None:
            raise ValidationError({"connection": ["Microsoft Entra ID is not configured."]})
        if not entra.start(connection, EntraConnection.RunState.IMPORTING):
            raise ValidationError({"sync": ["A test or import is already running."]})
        sync_entra_connection.delay(connection.pk)  # outcome in the status (last_error)
        return Response({"started": True}, status=status.HTTP_202_ACCEPTED)
