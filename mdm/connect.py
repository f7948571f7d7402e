"""The connect endpoint (§4.1): a device reports (Idle or the answer to a command) and gets its
next command, or an empty body when nothing is due.

A poll of an idle device costs two queries (the pinned device, the queue); ``last_seen_at`` is
written at most once per ``MDM_LAST_SEEN_GRANULARITY_SECONDS``. The device's desired state is
reconciled here, at connect time: what is due (an inventory refresh, an identity renewal, apps
and profiles through ``mdm.desired``) becomes commands now,
so a change for many devices never stores devices × items rows up front.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import desired, metrics, queue, removal, renewal
from .device_auth import DeviceIdentity, pinned_device
from .models import Device
from .protocol import BadMessage, Reply, text

REPORT_STATUSES = frozenset({"Idle", *queue.ANSWERS})


def _touch_due(device: Device, now) -> bool:
    granularity = timedelta(seconds=settings.MDM_LAST_SEEN_GRANULARITY_SECONDS)
    return device.last_seen_at is None or device.last_seen_at <= now - granularity


def _touch(device: Device, now) -> None:
    if _touch_due(device, now):
        Device.objects.filter(pk=device.pk).update(last_seen_at=now)
        device.last_seen_at = now


def reconcile(device: Device, now) -> None:
    """Turn what is due for the device into queued commands (only on Idle)."""
    if queue.inventory_due(device, now):
        queue.request_inventory(device)
    if renewal.due(device, now):
        renewal.request(device, now)
    if desired.due(device):
        desired.reconcile(device, now)


def handle(identity: DeviceIdentity, message: dict, raw: bytes) -> Reply:
    status = message.get("Status")
    if not isinstance(status, str) or status not in REPORT_STATUSES:
        raise BadMessage("unknown Status")
    enrollment_id = text(message, "EnrollmentID", required=True)
    if status != "Idle":
        text(message, "CommandUUID", required=True)
    device = pinned_device(identity, enrollment_id)
    if device.status == Device.Status.REMOVING:
        return removal.connect(device, message, raw)
    now = timezone.now()
    answered = None
    if (
        status == "Idle"
        and not _touch_due(device, now)
        and not queue.inventory_due(device, now)
        and not desired.due(device)
    ):
        # Nothing to write but the hand-out, one statement and atomic on its own: no
        # transaction, so no BEGIN and COMMIT round trips on the most frequent request; and
        # no statement at all when the lookup saw no open command.
        if not getattr(device, "has_open_commands", True):
            return Reply()
        envelope = queue.next_command(device, now, after_idle=True)
        return Reply(200, envelope, "application/xml") if envelope else Reply()
    with transaction.atomic():
        if status != "Idle":
            answered, envelope = queue.answer_and_next(device, message, raw, now)
            if envelope is None:
                # Processing the answer may have queued work or made the device due (a lost
                # profile, an app to install again): hand it out now, as the device will not
                # come back unasked after an empty answer.
                device.config_due = (
                    Device.objects.filter(pk=device.pk).values_list("config_due", flat=True).first()
                )
                if desired.due(device):
                    desired.reconcile(device, now)
                envelope = queue.next_command(device, now, after_idle=False)
        _touch(device, now)
        if status == "Idle":
            reconcile(device, now)
            envelope = queue.next_command(device, now, after_idle=True)
    if answered is not None:
        metrics.COMMANDS.labels(answered[0], answered[1]).inc()
    if envelope is None:
        return Reply()
    return Reply(200, envelope, "application/xml")
