"""Apple-side records of a tenant: its push certificate and its Apps and Books token."""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from users.fields import EncryptedTextField
from users.tenancy import TenantOwned


class PushCertificate(TenantOwned):
    """The tenant's MDM push certificate; one row per tenant, replaced in place on renewal.

    Private keys are encrypted at rest. ``pending_private_key_pem`` belongs to a certificate
    request handed to the admin and not yet answered by Apple; it never replaces the installed
    key until Apple's certificate for it is uploaded.
    """

    apple_id = models.CharField(_("Apple ID"), max_length=254, blank=True)
    topic = models.CharField(_("topic"), max_length=200, blank=True, db_index=True)
    certificate_pem = models.TextField(blank=True)
    private_key_pem = EncryptedTextField(blank=True)
    serial = models.CharField(_("serial number"), max_length=80, blank=True)
    not_before = models.DateTimeField(null=True, blank=True)
    not_after = models.DateTimeField(null=True, blank=True)
    is_demo = models.BooleanField(
        default=False, help_text=_("Self-made for the embedded demo; Apple will not accept it.")
    )
    uploaded_at = models.DateTimeField(null=True, blank=True)
    pending_apple_id = models.CharField(max_length=254, blank=True)
    pending_private_key_pem = EncryptedTextField(blank=True)
    pending_created_at = models.DateTimeField(null=True, blank=True)
    # APNs answered 403 for it (revoked, wrong environment): pushes stop until it is replaced.
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.CharField(max_length=120, blank=True)
    # Expiry warnings already mailed for this certificate (days before expiry: 30, 14, 7, 1).
    warnings_sent = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint("tenant", name="one_push_certificate_per_tenant"),
        ]

    def __str__(self):
        return self.topic or "pending push certificate request"

    @property
    def is_installed(self) -> bool:
        return bool(self.certificate_pem)

    @property
    def is_valid(self) -> bool:
        return self.is_installed and self.not_after is not None and self.not_after > timezone.now()


class VppToken(TenantOwned):
    """An Apps and Books content token (``.vpptoken``) of one ABM location; encrypted at rest."""

    class Status(models.TextChoices):
        VALID = "valid", _("Valid")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")
        INVALID = "invalid", _("Invalid or replaced")
        CLAIMED = "claimed", _("Managed by another MDM")

    token = EncryptedTextField()
    # Refuses the same token in two tenants without decrypting every row.
    token_sha256 = models.CharField(max_length=64, unique=True)
    org_name = models.CharField(_("organisation"), max_length=200)
    location_name = models.CharField(_("location"), max_length=200, blank=True)
    country = models.CharField(max_length=2, blank=True)
    location_uid = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(_("expires"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.VALID)
    # Our identity towards Apple (mdmInfo.id), stable per token row.
    mdm_id = models.UUIDField(default=uuid.uuid4, editable=False)
    other_mdm_name = models.CharField(max_length=200, blank=True)
    notification_token_hash = models.CharField(max_length=64, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    warnings_sent = models.JSONField(default=list, blank=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint("tenant", name="one_vpp_token_per_tenant")]

    def __str__(self):
        location = self.location_name or _("location unknown")  # not in an f-string: extracted
        return f"{self.org_name} ({location})"


class VppAsset(TenantOwned):
    """Licences of one app or book that the token's location owns (from ``GET assets``)."""

    token = models.ForeignKey(VppToken, on_delete=models.CASCADE, related_name="assets")
    adam_id = models.CharField(max_length=32)
    pricing_param = models.CharField(max_length=8)
    product_type = models.CharField(max_length=16, blank=True)
    assigned_count = models.IntegerField(default=0)
    available_count = models.IntegerField(default=0)
    retired_count = models.IntegerField(default=0)
    total_count = models.IntegerField(default=0)
    device_assignable = models.BooleanField(default=True)
    revocable = models.BooleanField(default=True)
    supported_platforms = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["adam_id"]
        constraints = [
            models.UniqueConstraint("token", "adam_id", "pricing_param", name="one_asset_per_token")
        ]


class VppEvent(TenantOwned):
    """An asynchronous Apps and Books job (associate, disassociate, users…) and its outcome."""

    class Status(models.TextChoices):
        PENDING = "PENDING", _("Pending")
        COMPLETE = "COMPLETE", _("Complete")
        FAILED = "FAILED", _("Failed")

    token = models.ForeignKey(VppToken, on_delete=models.CASCADE, related_name="events")
    event_id = models.CharField(max_length=64, unique=True)
    event_type = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    num_completed = models.IntegerField(default=0)
    num_requested = models.IntegerField(default=0)
    failures = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)


class VppUser(TenantOwned):
    """An Apps and Books user (``users/create``) standing for one managed user, so licences can
    be assigned by ``clientUserId``; linked by Apple to the Managed Apple Account.

    ``client_user_id`` is ours and never changes; the row outlives the managed user (SET_NULL)
    until Apple has retired it."""

    class Status(models.TextChoices):
        CREATING = "creating", _("Being created")
        REGISTERED = "registered", _("Registered")
        RETIRING = "retiring", _("Being retired")
        RETIRED = "retired", _("Retired")
        FAILED = "failed", _("Failed")

    token = models.ForeignKey(VppToken, on_delete=models.CASCADE, related_name="users")
    user = models.ForeignKey(
        "users.ManagedUser",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="vpp_users",
    )
    client_user_id = models.CharField(max_length=64, unique=True)
    managed_apple_id = models.CharField(max_length=254, blank=True)
    email = models.CharField(max_length=254, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CREATING)
    vpp_user_id = models.CharField(max_length=64, blank=True)  # Apple's userId
    event_id = models.CharField(max_length=64, blank=True)
    error_number = models.IntegerField(null=True, blank=True)
    error_text = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint("token", "user", name="one_vpp_user_per_token_user")]

    def __str__(self):
        return self.client_user_id
