"""Ending management of a device from the portal, and what a removed device is told.

Removing an enrolled device queues ``RemoveProfile`` for the enrollment profile (the device
then removes the work account, managed apps and data) and pushes. The next connect hands out
that command; every other request of the enrollment, and every request after it, gets 403
``com.apple.unrecognized.device``, which iOS 17+ also takes as "unenroll". A device that is
already unenrolled is simply forgotten.
"""

import contextlib

from django.db import transaction
from django.utils import timezone

from enrollment import lifecycle
from enrollment.profiles import payload_prefix
from users.audit import record

from . import queue
from .models import Command, Device, DeviceEvent
from .protocol import BadMessage, Reply, unrecognized

REMOVED = "management of this device was removed in the portal"


@transaction.atomic
def remove_management(device: Device, *, account=None, reason: str = "removed") -> bool:
    """Start removing management; True when the device must be pushed, False when the row was
    deleted (nothing left to tell the device)."""
    actor = account if account is not None else "portal"
    if device.status == Device.Status.REMOVING and device.has_push_token:
        return True  # already on its way out; push again
    if not device.is_manageable:  # unenrolled, or removing with no way to reach it
        record(actor, "device.deleted", device, enrollment_id=device.enrollment_id, reason=reason)
        lifecycle.ended(device.session_id)
        device.delete()
        return False
    queue.cancel_open(device)
    Command.objects.create(
        device=device,
        request_type="RemoveProfile",
        arguments={"Identifier": payload_prefix(device.tenant)},
        priority=100,
        requires_terms=False,
        origin=Command.Origin.ADMIN if account is not None else Command.Origin.SYSTEM,
        requested_by=account if getattr(account, "pk", None) else None,
    )
    Device.objects.filter(pk=device.pk).update(
        status=Device.Status.REMOVING, removal_requested_at=timezone.now()
    )
    device.status = Device.Status.REMOVING
    DeviceEvent.objects.create(device=device, kind="removal_requested", details={"reason": reason})
    record(
        actor, "device.removal_requested", device, enrollment_id=device.enrollment_id, reason=reason
    )
    return True


def remove_devices_of_users(user_ids, *, reason: str) -> list[int]:
    """Every manageable device of these users; returns the ids to push."""
    devices = Device.objects.filter(
        user_id__in=list(user_ids), status__in=(Device.Status.AUTHENTICATED, Device.Status.ENROLLED)
    ).select_related("tenant")
    return [d.pk for d in devices if remove_management(d, reason=reason)]


def end_enrollment(device: Device, kind: str, raw: bytes | None = None) -> None:
    """The enrollment is over (CheckOut, or removal finished): no token, no open commands, the
    session ended, and the event on the timeline. Call inside a transaction."""
    Device.objects.filter(pk=device.pk).update(
        status=Device.Status.UNENROLLED,
        unenrolled_at=timezone.now(),
        push_token=None,
        push_magic="",
        push_requested_at=None,
    )
    queue.cancel_open(device)
    lifecycle.ended(device.session_id)
    DeviceEvent.objects.create(device=device, kind=kind, raw=raw)


def connect(device: Device, message: dict, raw: bytes) -> Reply:
    """A device being removed connects: it gets its RemoveProfile once, then 403 for good."""
    now = timezone.now()
    with transaction.atomic():
        if message.get("Status") == "Idle":
            envelope = queue.next_command(device, now, after_idle=True)
            if envelope is not None:
                return Reply(200, envelope, "application/xml")
        else:
            # An answer to a canceled command: the device is told to go all the same.
            with contextlib.suppress(BadMessage):
                queue.record_answer(device, message, raw, now)
        end_enrollment(device, "removed")
    return unrecognized(REMOVED)
