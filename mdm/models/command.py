"""The command queue: one row per command for one device, with its answer beside it."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from .device import Device


class Command(models.Model):
    """A command for one device. The payload is built from ``request_type`` and ``arguments``
    when the command is handed out, so what the device gets always reflects the current state
    (a renamed profile, a rotated secret) and arguments stay JSON."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        ERROR = "error", _("Error")
        FORMAT_ERROR = "format_error", _("Command format error")
        NOT_NOW = "not_now", _("Not now")
        CANCELED = "canceled", _("Canceled")

    class Origin(models.TextChoices):
        ADMIN = "admin", _("Admin")
        API = "api", _("API")
        SYSTEM = "system", _("Portal")

    OPEN = (Status.QUEUED, Status.SENT, Status.NOT_NOW)

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="commands")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request_type = models.CharField(max_length=64)
    arguments = models.JSONField(default=dict, blank=True)
    priority = models.SmallIntegerField(default=0)  # higher goes first
    not_before = models.DateTimeField(null=True, blank=True)
    # Configuration waits for the terms of use; inventory does not.
    requires_terms = models.BooleanField(default=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    not_now_count = models.PositiveSmallIntegerField(default=0)
    origin = models.CharField(max_length=8, choices=Origin.choices, default=Origin.SYSTEM)
    requested_by = models.ForeignKey(
        "users.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    result = models.JSONField(default=dict, blank=True)  # what the portal read from the answer
    error_chain = models.JSONField(default=list, blank=True)
    raw_result = models.BinaryField(null=True, blank=True)  # the answer as received
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["device", "status", "priority"])]

    def __str__(self):
        return f"{self.request_type} {self.uuid}"
