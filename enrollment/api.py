"""REST API of enrollment: profiles, invitations (create = send), enrollment addresses."""

from django.forms.models import model_to_dict
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from users.api import StrictModelSerializer, TenantScopedReadOnlyViewSet, TenantScopedViewSet
from users.models import ManagedUser

from . import invitations, tasks
from .addresses import local_address
from .forms import ProfileForm
from .models import Invitation, Profile


class ProfileSerializer(StrictModelSerializer):
    class Meta:
        model = Profile
        fields = [
            "id",
            "kind",
            "name",
            "description",
            "organization",
            "is_default",
            "trusted_certificates",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


class ProfileViewSet(TenantScopedViewSet):
    queryset = Profile.objects.all()
    serializer_class = ProfileSerializer

    def _save_through_form(self, serializer, instance=None):
        # One set of rules (PEM check, single default) for UI and API: the form's.
        # A PATCH sends only what changes: the form sees the stored values for the rest.
        current = model_to_dict(instance, fields=ProfileForm._meta.fields) if instance else {}
        form = ProfileForm(data={**current, **serializer.validated_data}, instance=instance)
        if instance is None:
            form.instance.tenant = self.request.tenant
        if not form.is_valid():
            raise ValidationError(form.errors)
        serializer.instance = form.save()

    def perform_create(self, serializer):
        self._save_through_form(serializer)

    def perform_update(self, serializer):
        self._save_through_form(serializer, serializer.instance)


class InvitationSerializer(StrictModelSerializer):
    user = serializers.PrimaryKeyRelatedField(queryset=ManagedUser.objects.none())
    status = serializers.CharField(read_only=True)

    class Meta:
        model = Invitation
        fields = [
            "id",
            "user",
            "kind",
            "status",
            "send_count",
            "last_sent_at",
            "opened_at",
            "enrolled_at",
            "created_at",
        ]
        read_only_fields = ["send_count", "last_sent_at", "opened_at", "enrolled_at", "created_at"]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and getattr(request, "tenant", None) is not None:
            fields["user"].queryset = ManagedUser.objects.for_tenant(request.tenant)
        return fields


class InvitationViewSet(mixins.CreateModelMixin, TenantScopedReadOnlyViewSet):
    queryset = Invitation.objects.all()
    serializer_class = InvitationSerializer

    def perform_create(self, serializer):
        data = serializer.validated_data
        try:
            serializer.instance = invitations.invite(
                self.request.tenant, data["user"], account=self.request.user, kind=data["kind"]
            )
        except invitations.InvitationError as exc:
            raise ValidationError({"user": [str(exc)]}) from exc
        tasks.mail_invitation_after_commit(serializer.instance)

    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        invitation = self.get_object()
        invitations.resend(invitation, account=request.user)
        tasks.mail_invitation_after_commit(invitation)
        return Response(self.get_serializer(invitation).data)


class EnrollmentAddressSerializer(serializers.Serializer):
    user = serializers.IntegerField(source="pk")
    address = serializers.SerializerMethodField()
    managed_apple_id = serializers.CharField()
    has_password = serializers.BooleanField(source="has_enrollment_password")

    def get_address(self, user) -> str:
        return local_address(user)


class EnrollmentAddressViewSet(viewsets.GenericViewSet, mixins.RetrieveModelMixin):
    """The local account address of a managed user (what *Register new device* shows)."""

    queryset = ManagedUser.objects.all()
    serializer_class = EnrollmentAddressSerializer

    def get_queryset(self):
        return ManagedUser.objects.for_tenant(self.request.tenant).select_related("tenant")
