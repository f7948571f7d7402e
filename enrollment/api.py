"""REST API of enrollment: profiles, configuration profiles, invitations (create = send), enrollment addresses."""

from django.db import transaction
from django.forms.models import model_to_dict
from rest_framework import mixins, serializers, viewsets
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
from users.models import ManagedUser
from users.tags import tags_for_names

from . import configuration_profiles, invitations, payload_values, tasks
from .addresses import local_address
from .forms import ConfigurationProfileForm, ProfileForm
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
    """User registration profiles (configuration profiles: ``ConfigurationProfileViewSet``)."""

    queryset = Profile.objects.all()
    serializer_class = ProfileSerializer

    def base_queryset(self):
        return Profile.objects.filter(kind=Profile.Kind.USER_REGISTRATION)

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


class RefuseUnknownFields:
    """An unknown field is a 400 naming it, not silently dropped (e.g. PayloadRemovalDisallowed,
    which user enrollment forbids and the portal does not offer)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            # Read-only fields may come back from a GET; they are ignored, as DRF does.
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise ValidationError({key: ["Unknown field."] for key in unknown})
        return super().to_internal_value(data)


class PayloadSerializer(RefuseUnknownFields, serializers.Serializer):
    """One payload. ``values`` in JSON (files as {"$data": base64}, dates as {"$date": ISO});
    secret keys are write-only: ``secrets_stored`` names the ones kept, and a payload sent with
    its ``id`` keeps a stored secret it does not mention."""

    id = serializers.IntegerField(required=False)
    payload_type = StrictCharField(max_length=128)
    identifier = serializers.CharField(read_only=True)
    payload_uuid = serializers.UUIDField(read_only=True)
    values = serializers.DictField(required=False, default=dict)
    secrets_stored = serializers.SerializerMethodField()

    def get_secrets_stored(self, payload) -> list[str]:
        return sorted(configuration_profiles.payload_secrets(payload))

    def to_representation(self, payload):
        data = super().to_representation(payload)
        data["values"] = payload.values
        return data


class TagNames(serializers.ListField):
    child = StrictCharField(max_length=64)

    def to_representation(self, manager):
        return [tag.name for tag in manager.all()]


class ConfigurationProfileSerializer(RefuseUnknownFields, StrictModelSerializer):
    tags = TagNames(required=False)
    payloads = PayloadSerializer(many=True, required=False)

    class Meta:
        model = Profile
        fields = [
            "id",
            "name",
            "description",
            "organization",
            "removal",
            "removal_date",
            "removal_after_days",
            "tags",
            "payloads",
            "identifier",
            "revision",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["identifier", "revision", "created_at", "updated_at"]

    def validate(self, attrs):
        tenant = self.context["request"].tenant
        general = {f: attrs[f] for f in ConfigurationProfileForm._meta.fields if f in attrs}
        if self.instance is not None:
            current = model_to_dict(self.instance, fields=ConfigurationProfileForm._meta.fields)
            general = {**current, **general}
        else:
            general.setdefault("removal", Profile.Removal.WITH_ENROLLMENT)
        form = ConfigurationProfileForm(
            data={**general, "tag_names": ""}, instance=self.instance, tenant=tenant
        )
        if not form.is_valid():
            raise ValidationError({k: v for k, v in form.errors.items() if k != "tag_names"})
        if "payloads" in attrs:
            attrs["payloads"] = self._checked_payloads(attrs["payloads"])
        return attrs

    def _checked_payloads(self, items):
        stored = {p.pk: p for p in self.instance.payloads.all()} if self.instance else {}
        errors, checked, any_error = [], [], False
        for item in items:
            payload = stored.get(item.get("id")) if "id" in item else None
            if "id" in item and payload is None:
                errors.append({"id": ["No payload with this id in this profile."]})
                any_error = True
                continue
            if payload is not None and payload.payload_type != item["payload_type"]:
                errors.append({"payload_type": ["A payload's type cannot change."]})
                any_error = True
                continue
            values = payload_values.from_json(item.get("values") or {})
            if payload is not None:
                kept = configuration_profiles.payload_secrets(payload)
                missing = {p: v for p, v in kept.items() if not _has_path(values, p)}
                values = payload_values.from_json(
                    configuration_profiles.merge_secrets(payload_values.to_json(values), missing)
                )
            messages = configuration_profiles.check_payload(item["payload_type"], values)
            errors.append({"values": messages} if messages else {})
            any_error = any_error or bool(messages)
            checked.append((payload, item["payload_type"], values))
        if any_error:
            raise ValidationError({"payloads": errors})
        return checked

    def save_all(self, tenant, validated):
        names = validated.pop("tags", None)
        payloads = validated.pop("payloads", None)
        with transaction.atomic():
            if self.instance is None:
                new = [(payload_type, values) for _p, payload_type, values in payloads or ()]
                profile = configuration_profiles.create_profile(tenant, payloads=new, **validated)
            else:
                profile = self.instance
                for name, value in validated.items():
                    setattr(profile, name, value)
                profile.save()
            if payloads is not None and self.instance is not None:
                keep = {p.pk for p, _t, _v in payloads if p is not None}
                profile.payloads.exclude(pk__in=keep).delete()
                for position, (payload, payload_type, values) in enumerate(payloads):
                    if payload is None:
                        payload = configuration_profiles.add_payload(profile, payload_type, values)
                    else:
                        configuration_profiles.set_payload_values(payload, values)
                    payload.position = position
                    payload.save()
            configuration_profiles.saved(profile)
            if names is not None:
                configuration_profiles.set_tags(profile, tags_for_names(tenant, names))
        return profile


def _has_path(values, path: str) -> bool:
    holder = values
    for name in path.split("."):
        if not isinstance(holder, dict) or name not in holder:
            return False
        holder = holder[name]
    return True


class ConfigurationProfileViewSet(TenantScopedViewSet):
    """Configuration profiles with their payloads and tags; forbidden payload types and keys
    are refused (400) with the key's name, exactly as in the editor and the import."""

    queryset = Profile.objects.all()
    serializer_class = ConfigurationProfileSerializer

    def base_queryset(self):
        return configuration_profiles.configured().prefetch_related("tags", "payloads")

    def perform_create(self, serializer):
        profile = serializer.save_all(self.request.tenant, dict(serializer.validated_data))
        serializer.instance = profile
        record(self.request.user, "profile.created", profile)

    def perform_update(self, serializer):
        profile = serializer.save_all(self.request.tenant, dict(serializer.validated_data))
        serializer.instance = Profile.objects.prefetch_related("tags", "payloads").get(
            pk=profile.pk
        )
        record(self.request.user, "profile.updated", profile)

    def perform_destroy(self, instance):
        record(self.request.user, "profile.deleted", instance)
        configuration_profiles.delete_profile(instance)
