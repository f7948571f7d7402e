"""Renewal of a device's identity certificate before it expires, keeping the device's tile.

With the tenant's *Apple re-enrollment* switch on, a device whose identity certificate expires
within ``MDM_IDENTITY_RENEWAL_DAYS`` gets, at its next connect, an ``InstallProfile`` of its
enrollment profile with a fresh SCEP challenge (same identifiers, so it replaces the installed
one). The device enrolls a new certificate for the same enrollment session and presents it
(Authenticate, TokenUpdate or connect with the same EnrollmentID): ``adopt`` re-pins the same
``Device`` row to it, so its history, tags and apps stay. One renewal is open at a time; one
that has not come back after ``RETRY_AFTER`` is replaced by a new one. With the switch off
nothing is sent and the tile warns (``expires_soon``). The check is part of the connect's
reconciliation, which a device's polls reach at most once per
``MDM_LAST_SEEN_GRANULARITY_SECONDS`` (the idle fast path skips it).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from enrollment import profiles
from users.models import Tenant

from .commands.base import data_text
from .models import Command, Device, DeviceEvent

log = logging.getLogger("mdm.renewal")

RETRY_AFTER = timedelta(days=1)
REQUEST_TYPE = "InstallProfile"


def window() -> timedelta:
    return timedelta(days=settings.MDM_IDENTITY_RENEWAL_DAYS)


def expires_soon(device: Device, now=None) -> bool:
    """The identity certificate expires within the renewal window (no query)."""
    now = now or timezone.now()
    return device.identity_not_after is not None and device.identity_not_after <= now + window()


def due(device: Device, now) -> bool:
    """A renewal should be queued unless the switch is off (no query: the connect asks this)."""
    requested = device.identity_renewal_requested_at
    return (
        device.is_manageable
        and expires_soon(device, now)
        and (requested is None or requested <= now - RETRY_AFTER)
    )


def request(device: Device, now) -> Command | None:
    """Queue the renewal (inside the connect transaction); None when the switch is off or the
    enrollment profile cannot be built now (no push certificate, say)."""
    if not Tenant.objects.filter(pk=device.tenant_id, apple_reenrollment_enabled=True).exists():
        return None
    session = device.session
    if session is None:
        return None
    try:
        data = profiles.render_renewal_profile(session)
    except profiles.ProfileUnavailable as exc:
        log.warning("identity renewal of device %s not possible: %s", device.pk, exc)
        return None
    # One open renewal at a time: an unanswered older one (its challenge expired) gives way.
    previous = device.identity_renewal_requested_at
    if previous is not None:
        Command.objects.filter(
            device=device,
            request_type=REQUEST_TYPE,
            status__in=Command.OPEN,
            arguments__renewal=True,
        ).update(status=Command.Status.CANCELED, answered_at=now)
    command = Command.objects.create(
        device=device,
        request_type=REQUEST_TYPE,
        # "renewal" is the portal's note; the device gets only the Payload (InstallProfile).
        arguments={"Payload": data_text(data), "renewal": True},
        priority=50,
        # Keeping the enrollment alive is not configuration: it does not wait for the terms.
        requires_terms=False,
    )
    Device.objects.filter(pk=device.pk).update(identity_renewal_requested_at=now)
    device.identity_renewal_requested_at = now
    DeviceEvent.objects.create(
        device=device,
        kind="identity_renewal_requested",
        details={"expires": device.identity_not_after.isoformat()},
    )
    return command


def accepts(device: Device, identity, session_id: int | None) -> bool:
    """May ``identity`` (a certificate not pinned to the device) replace the pinned one?
    Only while a renewal is open, for the device's own enrollment session (the certificate's
    subject names it, and the caller checked the session's bearer token)."""
    return (
        device.identity_renewal_requested_at is not None
        and device.is_manageable
        and device.tenant_id == identity.tenant_id
        and session_id is not None
        and device.session_id == session_id
    )


def adopt(device: Device, identity, raw: bytes | None = None) -> None:
    """Pin the renewed certificate to the device (the same row: tile, history, tags, apps)."""
    certificate = identity.certificate
    changes = {
        "identity_fingerprint": identity.fingerprint,
        "identity_serial": format(certificate.serial_number, "x"),
        "identity_not_after": certificate.not_valid_after_utc,
        "identity_renewal_requested_at": None,
    }
    Device.objects.filter(pk=device.pk).update(**changes)
    for name, value in changes.items():
        setattr(device, name, value)
    DeviceEvent.objects.create(
        device=device,
        kind="identity_renewed",
        raw=raw,
        details={"expires": certificate.not_valid_after_utc.isoformat()},
    )
