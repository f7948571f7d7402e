"""Check-in messages (§3.2): one handler per MessageType, storage in one transaction each.

Handlers take the authenticated credentials and the parsed message and return a ``Reply``; they
know nothing about HTTP. Devices are keyed by ``EnrollmentID`` (user enrollment has no UDID).
"""

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from enrollment import lifecycle
from enrollment.models import EnrollmentSession

from .device_auth import DeviceCredentials
from .models import Device, DeviceEvent

log = logging.getLogger("mdm.checkin")


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain"

    @classmethod
    def json(cls, data) -> "Reply":
        return cls(200, json.dumps(data).encode(), "application/json")


def unrecognized(description: str) -> Reply:
    """Apple's iOS 17+ way to say "I do not know this enrollment" (§3.3)."""
    body = {"code": "com.apple.unrecognized.device", "description": description}
    return Reply(403, json.dumps(body).encode(), "application/json")


def bad_request(reason: str) -> Reply:
    return Reply(400, f"{reason}\n".encode())


def _text(message: dict, key: str, limit: int = 128) -> str:
    value = message.get(key, "")
    return value[:limit] if isinstance(value, str) else ""


def pinned_device(creds: DeviceCredentials, enrollment_id: str) -> Device | None:
    """The device of this EnrollmentID, if the request's certificate is the one pinned to it."""
    device = Device.objects.filter(tenant=creds.tenant, enrollment_id=enrollment_id).first()
    if device is None or device.identity_fingerprint != creds.fingerprint:
        return None
    return device


def _event(device, kind, raw=None, **details):
    DeviceEvent.objects.create(device=device, kind=kind, raw=raw, details=details)


REENROLLMENT_CERT_WINDOW = timedelta(days=30)


def _former_device(creds: DeviceCredentials, product: str) -> Device | None:
    """With Apple re-enrollment on: the tile a re-enrolling device of the same user takes over.

    A tile qualifies when it is of the same user and model and its enrollment ended (CheckOut)
    or its identity certificate is about to expire (the device is being re-enrolled for it).
    """
    if not creds.tenant.apple_reenrollment_enabled or not product:
        return None
    soon = timezone.now() + REENROLLMENT_CERT_WINDOW
    candidates = Device.objects.filter(
        tenant=creds.tenant, user=creds.session.user, product_name=product
    ).exclude(enrollment_id="")
    ended = candidates.filter(status=Device.Status.UNENROLLED).order_by("-unenrolled_at").first()
    return (
        ended or candidates.filter(identity_not_after__lte=soon).order_by("-last_seen_at").first()
    )


def authenticate(creds: DeviceCredentials, message: dict, raw: bytes) -> Reply:
    enrollment_id = _text(message, "EnrollmentID")
    if not enrollment_id:
        return bad_request("Authenticate without EnrollmentID (only user enrollment is supported)")
    session = creds.session
    if session.enrollment_id and session.enrollment_id != enrollment_id:
        return unrecognized("this enrollment session belongs to another EnrollmentID")
    now = timezone.now()
    with transaction.atomic():
        device = Device.objects.select_for_update().filter(enrollment_id=enrollment_id).first()
        if device is not None and (
            device.tenant_id != creds.tenant.pk or device.identity_fingerprint != creds.fingerprint
        ):
            return unrecognized("EnrollmentID already pinned to another identity certificate")
        product = _text(message, "ProductName", 64)
        if device is None:
            device = _former_device(creds, product)
            reclaimed = device is not None
            if device is None:
                device = Device(tenant=creds.tenant, enrollment_id=enrollment_id)
        else:
            reclaimed = False
        device.enrollment_id = enrollment_id
        device.session = session
        device.user = session.user
        device.managed_apple_id = session.user.managed_apple_id
        device.status = Device.Status.AUTHENTICATED
        device.product_name = product or device.product_name
        device.os_version = _text(message, "OSVersion", 32) or device.os_version
        device.build_version = _text(message, "BuildVersion", 32) or device.build_version
        device.topic = _text(message, "Topic", 200)
        device.identity_fingerprint = creds.fingerprint
        device.identity_serial = format(creds.certificate.serial_number, "x")
        device.identity_not_after = creds.certificate.not_valid_after_utc
        device.last_seen_at = now
        device.unenrolled_at = None
        device.save()
        EnrollmentSession.objects.filter(pk=session.pk).update(
            enrollment_id=enrollment_id, state=EnrollmentSession.State.CHECKED_IN
        )
        _event(device, "authenticate", raw, reclaimed=reclaimed, product=product)
    return Reply()


def token_update(creds: DeviceCredentials, message: dict, raw: bytes) -> Reply:
    device = pinned_device(creds, _text(message, "EnrollmentID"))
    if device is None:
        return unrecognized("unknown enrollment or certificate not pinned to it")
    token = message.get("Token")
    magic = _text(message, "PushMagic")
    if not isinstance(token, bytes) or not token or not magic:
        return bad_request("TokenUpdate without Token or PushMagic")
    first = device.enrolled_at is None or device.status != Device.Status.ENROLLED
    now = timezone.now()
    with transaction.atomic():
        device.push_token = token
        device.push_magic = magic
        device.topic = _text(message, "Topic", 200) or device.topic
        device.status = Device.Status.ENROLLED
        device.enrolled_at = device.enrolled_at if not first else now
        device.last_seen_at = now
        device.save()
        _event(device, "token_update", raw, first=first)
        if first:
            session_id = creds.session.pk
            transaction.on_commit(lambda: lifecycle.enrollment_completed(session_id))
    return Reply()


def check_out(creds: DeviceCredentials, message: dict, raw: bytes) -> Reply:
    device = pinned_device(creds, _text(message, "EnrollmentID"))
    if device is None:
        return unrecognized("unknown enrollment or certificate not pinned to it")
    with transaction.atomic():
        device.status = Device.Status.UNENROLLED
        device.unenrolled_at = timezone.now()
        device.push_token = None
        device.push_magic = ""
        device.save()
        EnrollmentSession.objects.filter(pk=creds.session.pk).update(
            state=EnrollmentSession.State.ENDED
        )
        _event(device, "check_out", raw)
    return Reply()


_EMPTY_DECLARATIONS = {"Activations": [], "Configurations": [], "Assets": [], "Management": []}


def _declarations_token(device: Device) -> str:
    # Declarative management is not used yet; the token only has to be stable for the empty set.
    return hashlib.sha256(f"{device.enrollment_id}:empty".encode()).hexdigest()


def declarative_management(creds: DeviceCredentials, message: dict, raw: bytes) -> Reply:
    device = pinned_device(creds, _text(message, "EnrollmentID"))
    if device is None:
        return unrecognized("unknown enrollment or certificate not pinned to it")
    endpoint = _text(message, "Endpoint", 300)
    token = _declarations_token(device)
    if endpoint == "tokens":
        stamp = device.enrolled_at or device.created_at
        return Reply.json(
            {
                "SyncTokens": {
                    "DeclarationsToken": token,
                    "Timestamp": stamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            }
        )
    if endpoint == "declaration-items":
        return Reply.json({"Declarations": _EMPTY_DECLARATIONS, "DeclarationsToken": token})
    if endpoint == "status":
        _event(device, "ddm_status", raw)
        return Reply()
    if endpoint.startswith("declaration/"):
        return Reply(404, b"unknown declaration\n")
    return bad_request(f"unknown declarative management endpoint {endpoint!r}")


def get_token(creds: DeviceCredentials, message: dict, raw: bytes) -> Reply:
    # The profile does not advertise com.apple.mdm.token, so no token service is offered.
    return bad_request("GetToken is not supported by this server")


def user_authenticate(creds: DeviceCredentials, message: dict, raw: bytes) -> Reply:
    # 410 tells a macOS user channel not to manage this user; iOS never sends it.
    return Reply(410, b"")


HANDLERS = {
    "Authenticate": authenticate,
    "TokenUpdate": token_update,
    "CheckOut": check_out,
    "DeclarativeManagement": declarative_management,
    "GetToken": get_token,
    "UserAuthenticate": user_authenticate,
}


def handle(creds: DeviceCredentials, message: dict, raw: bytes) -> Reply:
    kind = message.get("MessageType")
    handler = HANDLERS.get(kind) if isinstance(kind, str) else None
    if handler is None:
        log.warning("unknown check-in message type %r from tenant %s", kind, creds.tenant.number)
        return bad_request(f"unknown MessageType {kind!r}")
    return handler(creds, message, raw)
