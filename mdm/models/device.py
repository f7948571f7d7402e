"""Devices (one row per enrollment) and their event timeline."""

from django.db import models
from django.db.models import F
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from users.tenancy import TenantOwned


class Device(TenantOwned):
    """An enrolled (or formerly enrolled) device, keyed by the EnrollmentID of user enrollment."""

    class EnrollmentMode(models.TextChoices):
        ACCOUNT_USER = "adue", _("Account-based User Enrollment")

    class Status(models.TextChoices):
        AUTHENTICATED = "authenticated", _("Enrolling")
        ENROLLED = "enrolled", _("Enrolled")
        # Removal asked for in the portal: RemoveProfile is queued, every other request is refused.
        REMOVING = "removing", _("Removal pending")
        UNENROLLED = "unenrolled", _("Unenrolled")

    class PushState(models.TextChoices):
        OK = "ok", _("Reachable")
        # APNs said the token is bad or unregistered: no pushes until a newer TokenUpdate.
        UNREACHABLE = "unreachable", _("Unreachable")

    enrollment_id = models.CharField(_("EnrollmentID"), max_length=128, unique=True)
    user = models.ForeignKey(
        "users.ManagedUser",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="devices",
        verbose_name=_("user"),
    )
    session = models.ForeignKey(
        "enrollment.EnrollmentSession",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="devices",
    )
    enrollment_mode = models.CharField(
        max_length=10, choices=EnrollmentMode.choices, default=EnrollmentMode.ACCOUNT_USER
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.AUTHENTICATED)
    managed_apple_id = models.CharField(max_length=254, blank=True)
    product_name = models.CharField(_("model"), max_length=64, blank=True)
    os_version = models.CharField(_("OS version"), max_length=32, blank=True)
    build_version = models.CharField(max_length=32, blank=True)
    device_name = models.CharField(_("device name"), max_length=128, blank=True)
    model_name = models.CharField(max_length=64, blank=True)
    capacity_gb = models.FloatField(null=True, blank=True)
    available_capacity_gb = models.FloatField(null=True, blank=True)
    battery_level = models.FloatField(null=True, blank=True)
    security_info = models.JSONField(default=dict, blank=True)
    certificates = models.JSONField(default=list, blank=True)
    inventory_at = models.DateTimeField(null=True, blank=True)
    # When inventory commands were last queued; the next refresh is due a setting later.
    inventory_requested_at = models.DateTimeField(null=True, blank=True)
    # Kept in step with the enrollment's acceptance of the terms in force (enrollment signals),
    # so the command queue can gate configuration without a query per poll.
    terms_accepted = models.BooleanField(default=False)
    # The desired configuration (apps, profiles) changed since the device last got it; the
    # next Idle reconciles it (mdm.desired), once the terms are accepted.
    config_due = models.BooleanField(default=True)
    # What the portal calls the device (the admin's name; the device's own name is below).
    name = models.CharField(_("name"), max_length=120, blank=True)
    # The identity certificate pinned at Authenticate.
    identity_fingerprint = models.CharField(max_length=64, db_index=True)
    identity_serial = models.CharField(max_length=80, blank=True)
    identity_not_after = models.DateTimeField(null=True, blank=True)
    # A renewal of the identity (a new enrollment profile) was queued then; cleared when the
    # device authenticates with its new certificate (mdm.renewal).
    identity_renewal_requested_at = models.DateTimeField(null=True, blank=True)
    topic = models.CharField(max_length=200, blank=True)
    push_token = models.BinaryField(null=True, blank=True)
    push_magic = models.CharField(max_length=128, blank=True)
    push_state = models.CharField(max_length=12, choices=PushState.choices, default=PushState.OK)
    push_error = models.CharField(max_length=120, blank=True)
    # A push is owed to the device until APNs accepted one after this moment (crash-safe).
    push_requested_at = models.DateTimeField(null=True, blank=True)
    push_attempts = models.PositiveSmallIntegerField(default=0)
    last_push_at = models.DateTimeField(null=True, blank=True)
    tags = models.ManyToManyField("users.Tag", blank=True, related_name="devices")
    # Configuration profiles assigned to this device itself, besides those of its tags.
    direct_profiles = models.ManyToManyField(
        "enrollment.Profile", blank=True, related_name="direct_devices"
    )
    enrolled_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    unenrolled_at = models.DateTimeField(null=True, blank=True)
    removal_requested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Newest activity first, never-seen devices last, total and deterministic (id breaks
        # ties). NULL is replaced by a literal in the SQL itself (no parameter) so that the
        # expression index below matches the ORDER BY on PostgreSQL and SQLite alike; the
        # device list pages by keyset over exactly these three values (mdm.views).
        ordering = [
            Coalesce(
                "last_seen_at",
                RawSQL("'0001-01-01 00:00:00'", [], output_field=models.DateTimeField()),
            ).desc(),
            "-created_at",
            "-id",
        ]
        indexes = [
            models.Index(fields=["tenant", "status"]),
            models.Index(fields=["push_requested_at"]),
            models.Index(
                "tenant",
                Coalesce(
                    "last_seen_at",
                    RawSQL("'0001-01-01 00:00:00'", [], output_field=models.DateTimeField()),
                ).desc(),
                F("created_at").desc(),
                F("id").desc(),
                name="mdm_device_list_order",
            ),
        ]

    def __str__(self):
        owner = self.user.username if self.user_id else _("no user")
        model = self.display_model or _("device")
        return f"{model} ({owner})"

    @property
    def has_push_token(self) -> bool:
        return bool(self.push_token) and bool(self.push_magic)

    @property
    def is_manageable(self) -> bool:
        """Takes commands from the admin: enrolled and not on its way out."""
        return self.status in (self.Status.AUTHENTICATED, self.Status.ENROLLED)

    @property
    def display_model(self) -> str:
        from mdm.product_names import product_label

        return product_label(self.product_name, self.model_name)


class DeviceEvent(models.Model):
    """The timeline of a device: check-ins as received (raw) plus what the portal did."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40)
    details = models.JSONField(default=dict, blank=True)
    raw = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.kind} at {self.created_at:%Y-%m-%d %H:%M}"
