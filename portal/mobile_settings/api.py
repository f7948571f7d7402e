"""REST API of Mobile Security -> Settings: the Apple credentials' status, uploading a push
certificate or an Apps and Books token, the purchased assets. ``apple/`` keeps only Apple's
callbacks; this is the admin side, next to the settings page."""

from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from drf_spectacular.utils import extend_schema
from rest_framework import parsers, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from apple import expiry, push_certificates
from apple.certificate_files import CertificateFileError
from apple.models import PushCertificate, VppAsset, VppToken
from apple.tasks import sync_vpp_assets_after_commit
from apple.vpp import token_file, tokens
from users.api import SingletonSchema, TenantScopedReadOnlyViewSet
from users.audit import record


def _status(not_after) -> dict:
    s = expiry.status(not_after)
    return {"status": s.code, "days_left": s.days_left}


class PushCertificateUpload(serializers.Serializer):
    certificate = serializers.FileField()
    private_key = serializers.FileField(required=False)
    password = serializers.CharField(required=False, allow_blank=True, default="")
    apple_id = serializers.EmailField(required=False, allow_blank=True, default="")
    confirm_new_topic = serializers.BooleanField(required=False, default=False)


class _ExpiryStatus(serializers.Serializer):
    status = serializers.CharField()
    days_left = serializers.IntegerField(allow_null=True)


class PushCertificateStatus(_ExpiryStatus):
    installed = serializers.BooleanField()
    topic = serializers.CharField(required=False)
    apple_id = serializers.CharField(required=False, allow_blank=True)
    serial = serializers.CharField(required=False)
    not_before = serializers.DateTimeField(required=False, allow_null=True)
    not_after = serializers.DateTimeField(required=False, allow_null=True)
    is_demo = serializers.BooleanField(required=False)


@method_decorator(sensitive_post_parameters("password"), name="dispatch")
class PushCertificateViewSet(viewsets.ViewSet):
    """GET: the tenant's push certificate. POST (multipart): install or renew one."""

    parser_classes = [parsers.MultiPartParser]
    serializer_class = PushCertificateUpload
    schema = SingletonSchema()

    def _describe(self, row: PushCertificate | None) -> dict:
        if row is None or not row.is_installed:
            return {"installed": False, **_status(None)}
        return {
            "installed": True,
            "topic": row.topic,
            "apple_id": row.apple_id,
            "serial": row.serial,
            "not_before": row.not_before,
            "not_after": row.not_after,
            "is_demo": row.is_demo,
            **_status(row.not_after),
        }

    @extend_schema(responses=PushCertificateStatus)
    def list(self, request):
        return Response(self._describe(PushCertificate.objects.for_tenant(request.tenant).first()))

    @extend_schema(
        request={"multipart/form-data": PushCertificateUpload},
        responses={201: PushCertificateStatus},
    )
    def create(self, request):
        upload = PushCertificateUpload(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        key = data.get("private_key")
        try:
            row = push_certificates.install(
                request.tenant,
                data["certificate"].read(),
                password=data["password"],
                key_data=key.read() if key else None,
                apple_id=data["apple_id"],
                confirm_new_topic=data["confirm_new_topic"],
            )
        except (push_certificates.PushCertificateError, CertificateFileError) as exc:
            raise ValidationError({"certificate": [str(exc)]}) from exc
        record(request.user, "push_certificate.installed", row, topic=row.topic)
        return Response(self._describe(row), status=status.HTTP_201_CREATED)


class VppTokenUpload(serializers.Serializer):
    token = serializers.FileField()
    confirm_takeover = serializers.BooleanField(required=False, default=False)


class VppTokenStatus(_ExpiryStatus):
    installed = serializers.BooleanField()
    org_name = serializers.CharField(required=False, allow_blank=True)
    location = serializers.CharField(required=False, allow_blank=True)
    country = serializers.CharField(required=False, allow_blank=True)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    token_status = serializers.CharField(required=False, allow_blank=True)
    other_mdm = serializers.CharField(required=False, allow_blank=True)
    last_synced_at = serializers.DateTimeField(required=False, allow_null=True)


class VppTokenViewSet(viewsets.ViewSet):
    """GET: the tenant's Apps and Books token. POST (multipart): upload or replace it."""

    parser_classes = [parsers.MultiPartParser]
    serializer_class = VppTokenUpload
    schema = SingletonSchema()

    def _describe(self, row: VppToken | None) -> dict:
        if row is None:
            return {"installed": False, **_status(None)}
        return {
            "installed": True,
            "org_name": row.org_name,
            "location": row.location_name,
            "country": row.country,
            "expires_at": row.expires_at,
            "token_status": row.status,
            "other_mdm": row.other_mdm_name,
            "last_synced_at": row.last_synced_at,
            **_status(row.expires_at),
        }

    @extend_schema(responses=VppTokenStatus)
    def list(self, request):
        return Response(self._describe(VppToken.objects.for_tenant(request.tenant).first()))

    @extend_schema(request={"multipart/form-data": VppTokenUpload}, responses={201: VppTokenStatus})
    def create(self, request):
        upload = VppTokenUpload(data=request.data)
        upload.is_valid(raise_exception=True)
        try:
            row = tokens.upload(
                request.tenant,
                upload.validated_data["token"].read(),
                confirm_takeover=upload.validated_data["confirm_takeover"],
            )
        except (tokens.VppUploadError, token_file.TokenFileError) as exc:
            raise ValidationError({"token": [str(exc)]}) from exc
        sync_vpp_assets_after_commit(row)
        record(request.user, "vpp_token.installed", row, org=row.org_name)
        return Response(self._describe(row), status=status.HTTP_201_CREATED)


class VppAssetSerializer(serializers.ModelSerializer):
    class Meta:
        model = VppAsset
        fields = [
            "id",
            "adam_id",
            "pricing_param",
            "product_type",
            "assigned_count",
            "available_count",
            "retired_count",
            "total_count",
            "device_assignable",
            "revocable",
            "supported_platforms",
            "updated_at",
        ]


class VppAssetViewSet(TenantScopedReadOnlyViewSet):
    queryset = VppAsset.objects.all()
    serializer_class = VppAssetSerializer
