"""The app catalogue (apps the tenant bought, what should happen with them) and the state of
each app on each device."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from users.tenancy import TenantOwned

from .command import Command
from .device import Device


class App(TenantOwned):
    """An Apps and Books app in the tenant's catalogue, and who should get it: users and
    devices with one of its tags (app groups), devices assigned directly, and users who ask
    for it on the self-service page (``Licence.requested``)."""

    class InstallMode(models.TextChoices):
        AUTOMATIC = "automatic", _("Install automatically")
        AVAILABLE = "available", _("Available for self-service")

    adam_id = models.CharField(_("Apple ID of the app (adamId)"), max_length=32)
    name = models.CharField(_("name"), max_length=255, blank=True)
    bundle_id = models.CharField(_("bundle ID"), max_length=255, blank=True)
    icon_url = models.URLField(_("icon"), max_length=500, blank=True)
    version = models.CharField(_("version"), max_length=64, blank=True)
    platforms = models.JSONField(_("platforms"), default=list, blank=True)
    metadata_fetched_at = models.DateTimeField(null=True, blank=True)
    # The licences bought for it; the app stays in the catalogue when the asset goes.
    asset = models.ForeignKey(
        "apple.VppAsset", null=True, blank=True, on_delete=models.SET_NULL, related_name="apps"
    )
    install_mode = models.CharField(
        _("installation"), max_length=10, choices=InstallMode.choices, default=InstallMode.AUTOMATIC
    )
    remove_on_unenroll = models.BooleanField(
        _("remove when the device unenrolls"), default=True
    )  # ManagementFlags bit 1
    prevent_backup = models.BooleanField(
        _("prevent backup of the app's data"), default=False
    )  # ManagementFlags bit 4
    # Managed app configuration (a plist dictionary); $USERNAME, $EMAIL and $MANAGED_APPLE_ID
    # are replaced per device (users.variables).
    configuration = models.JSONField(_("managed app configuration"), default=dict, blank=True)
    tags = models.ManyToManyField(
        "users.Tag", blank=True, related_name="apps", verbose_name=_("tags")
    )
    devices = models.ManyToManyField(
        Device, blank=True, related_name="direct_apps", verbose_name=_("devices")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "adam_id"]
        constraints = [models.UniqueConstraint("tenant", "adam_id", name="one_app_per_adam_id")]

    def __str__(self):
        return self.name or self.adam_id

    @property
    def management_flags(self) -> int:
        return (1 if self.remove_on_unenroll else 0) | (4 if self.prevent_backup else 0)


class Licence(TenantOwned):
    """One user's Apps and Books licence for one app: why they should hold it and how far its
    assignment (``assets/associate`` by clientUserId) got. Rows exist only for users who
    should hold the app or still hold it."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        ASSOCIATING = "associating", _("Assigning")
        ASSIGNED = "assigned", _("Assigned")
        DISASSOCIATING = "disassociating", _("Releasing")
        FAILED = "failed", _("Failed")
        NO_LICENCE = "no_licence", _("No licence available")
        NO_APPLE_ID = "no_apple_id", _("No managed Apple ID")

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="licences")
    user = models.ForeignKey(
        "users.ManagedUser", on_delete=models.CASCADE, related_name="app_licences"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    # The user asked for the app on the self-service page (a reason of its own, beside tags).
    requested = models.BooleanField(default=False)
    error_number = models.IntegerField(null=True, blank=True)
    error_text = models.CharField(max_length=300, blank=True)
    # Apple's job (associate or disassociate) this licence waits for; a "claim:" value while
    # a worker is about to send it.
    event_id = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["app", "user"]
        constraints = [models.UniqueConstraint("app", "user", name="one_licence_per_app_user")]
        indexes = [models.Index(fields=["app", "state"])]

    def __str__(self):
        return f"{self.app} → {self.user_id}: {self.state}"


class AppInstallation(TenantOwned):
    """One catalogue app on one device: created when its first command is queued (never up
    front for devices × apps), updated from command results and ManagedApplicationList."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        INSTALLING = "installing", _("Installing")
        INSTALLED = "installed", _("Installed")
        FAILED = "failed", _("Failed")
        INSTALLED_PRIVATELY = "installed_privately", _("Installed privately")
        REMOVING = "removing", _("Removing")

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="app_installations")
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="installations")
    state = models.CharField(max_length=20, choices=State.choices, default=State.QUEUED)
    # Why it failed, in the portal's words or the device's (RejectionReason).
    error = models.CharField(max_length=300, blank=True)
    # The bundle id the device reported for it, and the version it runs.
    identifier = models.CharField(max_length=255, blank=True)
    version = models.CharField(max_length=64, blank=True)
    command = models.ForeignKey(
        Command, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["app", "device"]
        constraints = [
            models.UniqueConstraint("device", "app", name="one_installation_per_device_app")
        ]

    def __str__(self):
        return f"{self.app} on {self.device_id}: {self.state}"
