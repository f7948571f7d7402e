"""The command endpoint (§4.1): for now every report is recorded and answered with an empty
queue (Idle); the command queue hooks in here."""

from django.utils import timezone

from .checkin import Reply, pinned_device, unrecognized
from .device_auth import DeviceCredentials
from .models import Device, DeviceEvent

REPORT_STATUSES = {"Idle", "Acknowledged", "Error", "CommandFormatError", "NotNow"}


def handle_report(creds: DeviceCredentials, message: dict, raw: bytes) -> Reply:
    enrollment_id = message.get("EnrollmentID")
    device = pinned_device(creds, enrollment_id) if isinstance(enrollment_id, str) else None
    if device is None or device.status == Device.Status.UNENROLLED:
        return unrecognized("unknown enrollment or certificate not pinned to it")
    status = message.get("Status")
    if status not in REPORT_STATUSES:
        return Reply(400, b"unknown Status\n")
    # One UPDATE, no read-modify-write: connects are the hot path.
    Device.objects.filter(pk=device.pk).update(last_seen_at=timezone.now())
    if status != "Idle":
        DeviceEvent.objects.create(
            device=device,
            kind="command_report",
            raw=raw,
            details={"status": status, "command_uuid": str(message.get("CommandUUID", ""))[:64]},
        )
    return Reply()  # empty queue
