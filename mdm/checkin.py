"""Check-in messages (§3.2): one handler per MessageType, storage in one transaction each.

Handlers take the verified device identity and the parsed message and return a ``Reply``;
they know nothing about HTTP. Devices are keyed by ``EnrollmentID`` (user enrollment has no
UDID). Refusals raise ``DeviceAuthError`` or ``BadMessage`` before anything is written.
"""

import hashlib
import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from enrollment import lifecycle
from users import statements
from users.compiled import CompiledRow

from . import queue, removal, renewal, tasks
from .device_auth import DeviceIdentity, pinned_device, session_of
from .models import Device, DeviceEvent
from .protocol import BadMessage, Reply, bad_request, text, unrecognized

log = logging.getLogger("mdm.checkin")


def new_event(device, kind, raw=None, **details) -> DeviceEvent:
    return DeviceEvent(device=device, kind=kind, raw=raw, details=details)


def event(device, kind, raw=None, **details):
    new_event(device, kind, raw, **details).save()


REENROLLMENT_CERT_WINDOW = timedelta(days=30)

_ENROLLMENT = "\x01enrollment-id"  # the marker of the compiled lookup
_known_row = CompiledRow(
    lambda: Device.objects.filter(enrollment_id=_ENROLLMENT).values_list("pk")[:1],
    enrollment_id=(Device._meta.get_field("enrollment_id"), _ENROLLMENT),
)


def _former_device(tenant, user, product: str) -> Device | None:
    """With Apple re-enrollment on: the tile a re-enrolling device of the same user takes over.

    A tile qualifies when it is of the same user and model and its enrollment ended (CheckOut)
    or its identity certificate is about to expire (the device is being re-enrolled for it).
    """
    if not tenant.apple_reenrollment_enabled or not product:
        return None
    soon = timezone.now() + REENROLLMENT_CERT_WINDOW
    candidates = Device.objects.filter(tenant=tenant, user=user, product_name=product).exclude(
        enrollment_id=""
    )
    ended = candidates.filter(status=Device.Status.UNENROLLED).order_by("-unenrolled_at").first()
    return (
        ended or candidates.filter(identity_not_after__lte=soon).order_by("-last_seen_at").first()
    )


def authenticate(identity: DeviceIdentity, message: dict, raw: bytes) -> Reply:
    enrollment_id = text(message, "EnrollmentID")
    if not enrollment_id:
        return bad_request("Authenticate without EnrollmentID (only user enrollment is supported)")
    product = text(message, "ProductName", limit=64)
    os_version, build = (
        text(message, "OSVersion", limit=32),
        text(message, "BuildVersion", limit=32),
    )
    topic = text(message, "Topic", limit=200)
    session = session_of(identity)
    if session.enrollment_id and session.enrollment_id != enrollment_id:
        return unrecognized("this enrollment session belongs to another EnrollmentID")
    now = timezone.now()
    fields = {
        "enrollment_id": enrollment_id,
        "session": session,
        "user": session.user,
        "managed_apple_id": session.user.managed_apple_id,
        "status": Device.Status.AUTHENTICATED,
        "topic": topic,
        "identity_fingerprint": identity.fingerprint,
        "identity_serial": format(identity.certificate.serial_number, "x"),
        "identity_not_after": identity.certificate.not_valid_after_utc,
        "terms_accepted": session.terms_accepted,
        "last_seen_at": now,
        "unenrolled_at": None,
        "removal_requested_at": None,
    }
    inventory = {"product_name": product, "os_version": os_version, "build_version": build}
    if _known_row.row(enrollment_id=enrollment_id) is None and (
        _former_device(session.tenant, session.user, product) is None
    ):
        # A new enrollment (the usual case): the device, the session's binding and the event
        # in one statement; a device that appeared meanwhile fails it, and the path below
        # decides with the row locked.
        device = Device(tenant_id=identity.tenant_id, **fields, **inventory)
        try:
            device.pk = statements.write_together(
                [
                    statements.insert([device], returning="id"),
                    lifecycle.checked_in_part(session, enrollment_id),
                    statements.insert(
                        [
                            DeviceEvent(
                                device_id=statements.returned(0, "id"),
                                kind="authenticate",
                                raw=raw,
                                details={"reclaimed": False, "product": product},
                            )
                        ]
                    ),
                ]
            )[0]
            return Reply()
        except IntegrityError:
            log.info(
                "Authenticate of %s raced another one; deciding with the row locked", enrollment_id
            )
    with transaction.atomic():
        device = Device.objects.select_for_update().filter(enrollment_id=enrollment_id).first()
        if (
            device is not None
            and device.identity_fingerprint != identity.fingerprint
            and renewal.accepts(device, identity, session.pk)
        ):
            # The renewed identity of the same enrollment: same row, status unchanged.
            renewal.adopt(device, identity, raw)
            return Reply()
        if device is not None and (
            device.tenant_id != identity.tenant_id
            or device.identity_fingerprint != identity.fingerprint
        ):
            return unrecognized("EnrollmentID already pinned to another identity certificate")
        reclaimed = False
        if device is None:
            device = _former_device(session.tenant, session.user, product)
            reclaimed = device is not None
            if reclaimed:
                queue.cancel_open(device)  # meant for the former enrollment
            else:
                device = Device(tenant_id=identity.tenant_id)
        for name, value in fields.items():
            setattr(device, name, value)
        for name, value in inventory.items():
            setattr(device, name, value or getattr(device, name))
        device.save()
        lifecycle.checked_in(session, enrollment_id)
        event(device, "authenticate", raw, reclaimed=reclaimed, product=product)
    return Reply()


def token_update(identity: DeviceIdentity, message: dict, raw: bytes) -> Reply:
    device = pinned_device(identity, text(message, "EnrollmentID"))
    if device.status == Device.Status.REMOVING:
        return unrecognized("management of this device was removed in the portal")
    token = message.get("Token")
    magic = text(message, "PushMagic")
    if not isinstance(token, bytes) or not token or len(token) > 100 or not magic:
        return bad_request("TokenUpdate without Token or PushMagic")
    topic = text(message, "Topic", limit=200) or device.topic
    first = device.enrolled_at is None or device.status != Device.Status.ENROLLED
    now = timezone.now()
    changes = {
        "push_token": token,
        "push_magic": magic,
        "topic": topic,
        "status": Device.Status.ENROLLED,
        "last_seen_at": now,
        # A new token makes an unreachable device reachable again.
        "push_state": Device.PushState.OK,
        "push_error": "",
    }
    if first:
        # A fresh device reports its inventory at once; the push wakes it for it. Marked in the
        # same UPDATE: a new enrollment has no open commands to coalesce with.
        changes |= {"enrolled_at": now, "inventory_requested_at": now, "push_requested_at": now}
    parts = [
        statements.update_row(Device, device.pk, **changes),
        statements.insert([new_event(device, "token_update", raw, first=first)]),
    ]
    if first:
        parts.append(statements.insert(queue.inventory_commands(device)))
    statements.write_together(parts)
    if first:
        tasks.enrolled_after_commit(device.pk, device.session_id)
    return Reply()


def check_out(identity: DeviceIdentity, message: dict, raw: bytes) -> Reply:
    device = pinned_device(identity, text(message, "EnrollmentID"))
    removing = device.status == Device.Status.REMOVING
    with transaction.atomic():
        removal.end_enrollment(device, "check_out", raw)
    if removing:
        return unrecognized("management of this device was removed in the portal")
    return Reply()


_EMPTY_DECLARATIONS = {"Activations": [], "Configurations": [], "Assets": [], "Management": []}


def _declarations_token(device: Device) -> str:
    # Declarative management is not used yet; the token only has to be stable for the empty set.
    return hashlib.sha256(f"{device.enrollment_id}:empty".encode()).hexdigest()


def declarative_management(identity: DeviceIdentity, message: dict, raw: bytes) -> Reply:
    device = pinned_device(identity, text(message, "EnrollmentID"))
    if device.status == Device.Status.REMOVING:
        return unrecognized("management of this device was removed in the portal")
    endpoint = text(message, "Endpoint", limit=300)
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
        event(device, "ddm_status", raw)
        return Reply()
    if endpoint.startswith("declaration/"):
        return Reply(404, b"unknown declaration\n")
    return bad_request(f"unknown declarative management endpoint {endpoint!r}")


def get_token(identity: DeviceIdentity, message: dict, raw: bytes) -> Reply:
    # The profile does not advertise com.apple.mdm.token, so no token service is offered.
    return bad_request("GetToken is not supported by this server")


def user_authenticate(identity: DeviceIdentity, message: dict, raw: bytes) -> Reply:
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


def handle(identity: DeviceIdentity, message: dict, raw: bytes) -> Reply:
    kind = message.get("MessageType")
    handler = HANDLERS.get(kind) if isinstance(kind, str) else None
    if handler is None:
        log.warning("unknown check-in message type %r", kind)
        raise BadMessage(f"unknown MessageType {str(kind)[:40]!r}")
    return handler(identity, message, raw)
