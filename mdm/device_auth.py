"""Authentication of device requests to the check-in and connect endpoints (§3.3).

Two steps, the first before the body is parsed:

1. ``identify``: the identity certificate — from ``Mdm-Signature`` (CMS, detached, verified over
   the exact raw body) or forwarded by the TLS proxy in ``MDM_CLIENT_CERT_HEADER`` — must be
   issued by the identity CA of the tenant named in its subject and valid now. Its CN names the
   enrollment session. The tenant's CA is cached per process for a short time, so a poll does
   not read it from the database.
2. ``pinned_device``: the enrollment the body names must be pinned to that certificate (since
   ``Authenticate``), belong to that session and present its bearer token — one query.
"""

import base64
import binascii
import functools
import hashlib
import re
import threading
import time
import uuid
from dataclasses import dataclass
from urllib.parse import unquote

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from apple import cms, x509util
from enrollment import tokens
from enrollment.models import EnrollmentSession
from enrollment.scep.models import IdentityCA
from users.compiled import CompiledRow

from . import renewal
from .models import Command, Device

_CN = re.compile(r"^ue-(?P<id>[0-9a-f-]{36})$")
_CA_TTL = 30.0  # seconds a disabled tenant or a replaced CA may still be seen as before


class DeviceAuthError(Exception):
    """``status`` 401: the device must sign in again (``challenge_tenant_id`` says where);
    403: the device is not known here (answered with ``com.apple.unrecognized.device``)."""

    def __init__(self, status: int, reason: str, *, challenge_tenant_id: int | None = None):
        super().__init__(reason)
        self.status, self.reason, self.challenge_tenant_id = status, reason, challenge_tenant_id


def _unknown(reason: str) -> DeviceAuthError:
    return DeviceAuthError(403, reason)


@dataclass(frozen=True)
class DeviceIdentity:
    """What a verified identity certificate says; no database row is loaded for it."""

    tenant_id: int
    certificate: x509.Certificate
    fingerprint: str
    session_public_id: uuid.UUID
    bearer_hash: str | None


def fingerprint(certificate: x509.Certificate) -> str:
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def _certificate_from(request) -> x509.Certificate:
    signature = request.META.get("HTTP_MDM_SIGNATURE")
    if signature:
        try:
            der = base64.b64decode(signature, validate=False)
            return cms.verify(der, detached_content=request.body).signer
        except (binascii.Error, ValueError) as exc:  # cms.CMSError is a ValueError
            raise _unknown(f"bad Mdm-Signature: {exc}") from exc
    header = settings.MDM_CLIENT_CERT_HEADER
    if header:
        value = request.META.get("HTTP_" + header.upper().replace("-", "_"))
        if value:
            try:
                return x509.load_pem_x509_certificate(unquote(value).encode())
            except ValueError as exc:
                raise _unknown("bad forwarded client certificate") from exc
    raise DeviceAuthError(401, "no device identity (Mdm-Signature or client certificate)")


_ca_cache: dict[int, tuple[float, tuple[int, bool, x509.Certificate]]] = {}
_ca_lock = threading.Lock()


@functools.lru_cache(maxsize=1024)
def _certificate(pem: str) -> x509.Certificate:
    """Keyed by content: the same CA stays the same object while it is not replaced."""
    return x509.load_pem_x509_certificate(pem.encode())


def _tenant_ca(number: int, *, fresh: bool = False) -> tuple[int, bool, x509.Certificate] | None:
    """(tenant id, tenant active, CA certificate) of a tenant number, cached briefly. Only
    found CAs are cached, so a CA made a moment ago is seen at once."""
    now = time.monotonic()
    cached = None if fresh else _ca_cache.get(number)
    if cached is not None and cached[0] > now:
        return cached[1]
    row = (
        IdentityCA.objects.filter(tenant__number=number)
        .values_list("tenant_id", "tenant__is_active", "certificate_pem")
        .first()
    )
    if row is None:
        return None
    value = (row[0], row[1], _certificate(row[2]))
    with _ca_lock:
        _ca_cache[number] = (now + _CA_TTL, value)
    return value


# Certificates already checked against their CA, by fingerprint: the CA's signature over a
# device certificate does not change, so a poll need not verify it again (bounded, per process).
_verified: dict[str, x509.Certificate] = {}
_VERIFIED_MAX = 50_000


def _issued_by_tenant(certificate: x509.Certificate, number: int, print_: str):
    """The tenant authority that issued this certificate, valid now; None otherwise."""
    now = timezone.now()
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        return None
    for fresh in (False, True):  # a replaced CA is read again before refusing
        authority = _tenant_ca(number, fresh=fresh)
        if authority is None:
            return None
        if _verified.get(print_) is authority[2]:
            return authority
        if x509util.signed_by(certificate, authority[2]):
            if len(_verified) >= _VERIFIED_MAX:
                _verified.clear()
            _verified[print_] = authority[2]
            return authority
    return None


def _one(name: x509.Name, oid) -> str:
    values = name.get_attributes_for_oid(oid)
    return values[0].value if len(values) == 1 else ""


@functools.lru_cache(maxsize=4096)
def _names(certificate: x509.Certificate) -> tuple[int | None, str, uuid.UUID | None]:
    """(tenant number, fingerprint, session public id) a certificate names: read once per
    certificate (``apple.cms`` hands out the same object for the same certificate bytes)."""
    number = _one(certificate.subject, NameOID.ORGANIZATION_NAME)
    match = _CN.match(_one(certificate.subject, NameOID.COMMON_NAME))
    try:
        session_public_id = uuid.UUID(match["id"]) if match else None
    except ValueError:  # e.g. 36 dashes
        session_public_id = None
    return (
        int(number) if number.isdigit() and len(number) < 12 else None,
        fingerprint(certificate),
        session_public_id,
    )


def identify(request) -> DeviceIdentity:
    """Step 1: the verified identity certificate of the request (raises DeviceAuthError)."""
    certificate = _certificate_from(request)
    number, print_, session_public_id = _names(certificate)
    authority = _issued_by_tenant(certificate, number, print_) if number is not None else None
    if authority is None:
        raise _unknown("identity certificate not issued by a tenant's identity CA")
    tenant_id, active, _ca = authority
    if not active:
        raise _unknown("tenant disabled")
    if session_public_id is None:
        raise _unknown("identity certificate names no enrollment")
    raw = tokens.bearer_from(request)
    return DeviceIdentity(
        tenant_id=tenant_id,
        certificate=certificate,
        fingerprint=print_,
        session_public_id=session_public_id,
        bearer_hash=EnrollmentSession.hash_token(raw) if raw else None,
    )


def check_session(identity: DeviceIdentity, session: EnrollmentSession | None) -> None:
    """The session the certificate names, with the bearer token the device presented."""
    if session is None or session.public_id != identity.session_public_id:
        raise _unknown("identity certificate names no enrollment of this tenant")
    if session.state == EnrollmentSession.State.ENDED:
        raise _unknown("enrollment ended")
    if identity.bearer_hash is None:
        raise DeviceAuthError(401, "bearer token missing", challenge_tenant_id=identity.tenant_id)
    if identity.bearer_hash != session.token_hash:
        raise _unknown("bearer token of another enrollment")
    if not session.token_usable():
        raise DeviceAuthError(401, "bearer token expired", challenge_tenant_id=identity.tenant_id)


def session_of(identity: DeviceIdentity) -> EnrollmentSession:
    """Step 2 for Authenticate: the enrollment session, with its user and tenant."""
    session = _load_session(identity.tenant_id, identity.session_public_id)
    check_session(identity, session)
    return session


# Markers of the compiled lookups (``CompiledRow``): any values but the queries' constants.
_TENANT, _ENROLLMENT = -424242, "\x01enrollment-id"
_PUBLIC_ID = uuid.UUID(int=0x424242)

# The session with its user, tenant and whether it accepted the terms in force.
_session_row = CompiledRow(
    lambda: tokens.joined_sessions(tenant_id=_TENANT, public_id=_PUBLIC_ID),
    tenant=(EnrollmentSession._meta.get_field("tenant"), _TENANT),
    public_id=(EnrollmentSession._meta.get_field("public_id"), _PUBLIC_ID),
)


def _load_session(tenant_id: int, public_id: uuid.UUID | None) -> EnrollmentSession | None:
    if public_id is None:
        return None
    row = _session_row.row(tenant=tenant_id, public_id=public_id)
    return None if row is None else tokens.joined_session(row)


# What a device request needs of its enrollment, in one compiled lookup (``CompiledRow``).
_DEVICE_FIELDS = tuple(
    f.attname
    for f in Device._meta.concrete_fields
    if f.attname
    in {
        "id",
        "tenant_id",
        "enrollment_id",
        "identity_fingerprint",
        "identity_not_after",
        "identity_renewal_requested_at",
        "status",
        "session_id",
        "user_id",
        "terms_accepted",
        "config_due",
        "last_seen_at",
        "inventory_requested_at",
        "enrolled_at",
        "created_at",
        "topic",
        "push_magic",
        # The DeviceInformation answer compares the reported name with these ($DEVICE_NAME).
        "name",
        "device_name",
    }
)
_SESSION_FIELDS = tuple(
    f.attname
    for f in EnrollmentSession._meta.concrete_fields
    if f.attname
    in {
        "id",
        "tenant_id",
        "user_id",
        "public_id",
        "token_hash",
        "state",
        "expires_at",
        "enrollment_id",
    }
)


def _device_query():
    # Whether any command is open, so an idle poll of an idle device needs no second query.
    open_commands = Command.objects.filter(device=OuterRef("pk"), status__in=Command.OPEN)
    return (
        Device.objects.filter(tenant_id=_TENANT, enrollment_id=_ENROLLMENT)
        .annotate(has_open_commands=Exists(open_commands))
        .order_by()  # EnrollmentID is unique: no sort, and the planner takes its index
        .values_list(
            *_DEVICE_FIELDS,
            "has_open_commands",
            *(f"session__{name}" for name in _SESSION_FIELDS),
        )[:1]
    )


_device_row = CompiledRow(
    _device_query,
    tenant=(Device._meta.get_field("tenant"), _TENANT),
    enrollment_id=(Device._meta.get_field("enrollment_id"), _ENROLLMENT),
)


def _load_device(tenant_id: int, enrollment_id: str) -> Device | None:
    row = _device_row.row(tenant=tenant_id, enrollment_id=enrollment_id)
    if row is None:
        return None
    split = len(_DEVICE_FIELDS)
    device = Device.from_db(DEFAULT_DB_ALIAS, _DEVICE_FIELDS, row[:split])
    device.has_open_commands = bool(row[split])
    session = None
    if row[split + 1] is not None:
        session = EnrollmentSession.from_db(DEFAULT_DB_ALIAS, _SESSION_FIELDS, row[split + 1 :])
    device._state.fields_cache["session"] = session
    return device


def pinned_device(identity: DeviceIdentity, enrollment_id: str) -> Device:
    """Step 2 for every other message: the device of this EnrollmentID, pinned to this
    certificate, of this session, with its bearer token — one query."""
    device = _load_device(identity.tenant_id, enrollment_id) if enrollment_id else None
    if device is None:
        raise _unknown("unknown enrollment or certificate not pinned to it")
    if device.identity_fingerprint != identity.fingerprint:
        # The renewed certificate of an open identity renewal may arrive here first.
        if device.identity_renewal_requested_at is None or identity.certificate is None:
            raise _unknown("unknown enrollment or certificate not pinned to it")
        check_session(identity, device.session)
        if not renewal.accepts(device, identity, device.session_id):
            raise _unknown("unknown enrollment or certificate not pinned to it")
        with transaction.atomic():
            renewal.adopt(device, identity)
        return device
    if device.status == Device.Status.UNENROLLED:
        raise _unknown("enrollment ended")
    if device.status == Device.Status.REMOVING and device.session is None:
        # The user was deleted with their sessions; the pinned certificate still proves the
        # device, which may fetch its RemoveProfile.
        return device
    check_session(identity, device.session)
    return device
