"""What a device reported it has: managed apps and managed profiles, one row each."""

from django.db import models

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
    """A managed profile as reported by ProfileList."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="profiles")
    identifier = models.CharField(max_length=255)
    display_name = models.CharField(max_length=255, blank=True)
    payload_uuid = models.CharField(max_length=64, blank=True)
    organization = models.CharField(max_length=255, blank=True)
    is_managed = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["display_name", "identifier"]
        constraints = [
            models.UniqueConstraint("device", "identifier", name="one_row_per_device_profile")
        ]

    def __str__(self):
        return self.display_name or self.identifier
