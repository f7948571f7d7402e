"""What a device has: managed apps and managed profiles, one row each.

Profile rows are also the portal's delivery record (mdm.profile_delivery): a row with a
``state`` is a configuration profile the portal queued or installed; a row without one was only
reported by ``ProfileList`` (the enrollment profile, say).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .device import Device


class DeviceApp(models.Model):
    """A managed app as reported by InstalledApplicationList / ManagedApplicationList."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="apps")
    identifier = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True)
    version = models.CharField(max_length=64, blank=True)
    short_version = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=40, blank=True)  # ManagedApplicationList Status
    is_managed = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "identifier"]
        constraints = [
            models.UniqueConstraint("device", "identifier", name="one_row_per_device_app")
        ]

    def __str__(self):
        return self.name or self.identifier


class DeviceProfile(models.Model):
    """A managed profile on a device: reported by ProfileList, delivered by the portal, or both."""

    class State(models.TextChoices):
        REPORTED = "", _("On the device")
        QUEUED = "queued", _("Queued")
        INSTALLED = "installed", _("Installed")
        FAILED = "failed", _("Failed")
        REMOVING = "removing", _("Removal queued")

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="profiles")
    identifier = models.CharField(max_length=255)
    display_name = models.CharField(max_length=255, blank=True)
    payload_uuid = models.CharField(max_length=64, blank=True)
    organization = models.CharField(max_length=255, blank=True)
    is_managed = models.BooleanField(default=True)
    # The configuration profile the portal delivered here (null once it is deleted: the row
    # then says what to remove).
    profile = models.ForeignKey(
        "enrollment.Profile",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="device_states",
    )
    state = models.CharField(max_length=12, choices=State.choices, default="", blank=True)
    error_chain = models.JSONField(default=list, blank=True)
    # The last InstallProfile or RemoveProfile for this row; its answer updates the state.
    command_uuid = models.UUIDField(null=True, blank=True)
    # Hash of what the device gets (the profile's content and the variables' values), queued
    # and acknowledged; reconciliation queues again only when the wanted hash differs.
    queued_hash = models.CharField(max_length=64, blank=True)
    queued_revision = models.PositiveIntegerField(null=True, blank=True)
    installed_hash = models.CharField(max_length=64, blank=True)
    installed_revision = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["display_name", "identifier"]
        constraints = [
            models.UniqueConstraint("device", "identifier", name="one_row_per_device_profile")
        ]

    def __str__(self):
        return self.display_name or self.identifier

    @property
    def delivered(self) -> bool:
        return self.state != self.State.REPORTED
