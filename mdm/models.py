"""Devices (one row per enrollment) and their event timeline."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from users.tenancy import TenantOwned


class Device(TenantOwned):
    """An enrolled (or formerly enrolled) device, keyed by the EnrollmentID of user enrollment."""

    class EnrollmentMode(models.TextChoices):
        ACCOUNT_USER = "adue", _("Account-based User Enrollment")

    class Status(models.TextChoices):
        AUTHENTICATED = "authenticated", _("Enrolling")
        ENROLLED = "enrolled", _("Enrolled")
        UNENROLLED = "unenrolled", _("Unenrolled")

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
    device_name = models.CharField(max_length=128, blank=True)
    # The identity certificate pinned at Authenticate.
    identity_fingerprint = models.CharField(max_length=64, db_index=True)
    identity_serial = models.CharField(max_length=80, blank=True)
    identity_not_after = models.DateTimeField(null=True, blank=True)
    topic = models.CharField(max_length=200, blank=True)
    push_token = models.BinaryField(null=True, blank=True)
    push_magic = models.CharField(max_length=128, blank=True)
    tags = models.ManyToManyField("users.Tag", blank=True, related_name="devices")
    enrolled_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    unenrolled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-last_seen_at", "-created_at"]
        indexes = [models.Index(fields=["tenant", "status"])]

    def __str__(self):
        owner = self.user.username if self.user_id else _("no user")
        return f"{self.product_name or _('device')} ({owner})"

    @property
    def has_push_token(self) -> bool:
        return bool(self.push_token) and bool(self.push_magic)


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
