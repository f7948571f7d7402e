"""Authentication of device requests to the check-in and command endpoints (§3.3).

A request must bring the device's identity certificate — in the ``Mdm-Signature`` header (CMS,
detached, over the exact body) or forwarded by the TLS proxy in ``MDM_CLIENT_CERT_HEADER`` — and
that certificate must be issued by the identity CA of the tenant named in its subject. Its CN
names the enrollment session; the bearer token of the web login must belong to that session.
The pin to the certificate seen at ``Authenticate`` is checked per message in ``checkin``.
"""

import base64
import binascii
import hashlib
import re
import uuid
from dataclasses import dataclass
from urllib.parse import unquote

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from django.conf import settings

from apple import cms
from enrollment import tokens
from enrollment.models import EnrollmentSession
from enrollment.scep import services as scep
from users.models import Tenant

_CN = re.compile(r"^ue-(?P<id>[0-9a-f-]{36})$")


class DeviceAuthError(Exception):
    """``status`` 401: credentials missing (or a re-login is needed), 403: credentials wrong."""

    def __init__(self, status: int, reason: str, *, challenge_tenant=None):
        super().__init__(reason)
        self.status, self.reason, self.challenge_tenant = status, reason, challenge_tenant


@dataclass(frozen=True)
class DeviceCredentials:
    tenant: Tenant
    session: EnrollmentSession
    certificate: x509.Certificate
    fingerprint: str
    bearer_valid: bool


def fingerprint(certificate: x509.Certificate) -> str:
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def _certificate_from(request) -> x509.Certificate:
    signature = request.META.get("HTTP_MDM_SIGNATURE")
    if signature:
        try:
            der = base64.b64decode(signature, validate=False)
            return cms.verify(der, detached_content=request.body).signer
        except (binascii.Error, ValueError, cms.CMSError) as exc:
            raise DeviceAuthError(403, f"bad Mdm-Signature: {exc}") from exc
    header = settings.MDM_CLIENT_CERT_HEADER
    if header:
        value = request.META.get("HTTP_" + header.upper().replace("-", "_"))
        if value:
            try:
                return x509.load_pem_x509_certificate(unquote(value).encode())
            except ValueError as exc:
                raise DeviceAuthError(403, "bad forwarded client certificate") from exc
    raise DeviceAuthError(401, "no device identity (Mdm-Signature or client certificate)")


def _one(name: x509.Name, oid) -> str:
    values = name.get_attributes_for_oid(oid)
    return values[0].value if len(values) == 1 else ""


def authenticate(request, *, allow_ended_token: bool = False) -> DeviceCredentials:
    certificate = _certificate_from(request)
    number = _one(certificate.subject, NameOID.ORGANIZATION_NAME)
    tenant = Tenant.objects.filter(number=int(number)).first() if number.isdigit() else None
    if tenant is None or not scep.verify_device_certificate(tenant, certificate):
        raise DeviceAuthError(403, "identity certificate not issued by a tenant's identity CA")
    if not tenant.is_active:
        raise DeviceAuthError(403, "tenant disabled")
    match = _CN.match(_one(certificate.subject, NameOID.COMMON_NAME))
    session = None
    if match:
        session = (
            EnrollmentSession.objects.select_related("user", "tenant")
            .filter(tenant=tenant, public_id=uuid.UUID(match["id"]))
            .first()
        )
    if session is None:
        raise DeviceAuthError(403, "identity certificate names no enrollment of this tenant")
    raw = tokens.bearer_from(request)
    if raw is None:
        raise DeviceAuthError(401, "bearer token missing", challenge_tenant=tenant)
    if EnrollmentSession.hash_token(raw) != session.token_hash:
        raise DeviceAuthError(403, "bearer token of another enrollment")
    usable = session.token_usable()
    if not usable and not allow_ended_token:
        raise DeviceAuthError(401, "bearer token expired", challenge_tenant=tenant)
    return DeviceCredentials(tenant, session, certificate, fingerprint(certificate), usable)
