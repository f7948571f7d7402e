"""The push identity of a tenant: what APNs clients and enrollment profiles use.

Looked up from the database on every call, so a renewed certificate is used at once, in every
process, without a restart. Callers that keep connections (the APNs client) compare
``fingerprint`` to know when to reconnect.
"""

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa
from django.db.models import Subquery
from django.utils import timezone

from users.compiled import CompiledRow

from . import x509util
from .models import PushCertificate

TOPIC_PREFIX = "com.apple.mgmt.External."


@dataclass(frozen=True)
class PushIdentity:
    tenant_id: int
    topic: str
    certificate_pem: bytes
    private_key_pem: bytes
    not_after: dt.datetime
    is_demo: bool

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.certificate_pem).hexdigest()


# Markers of the compiled lookup (any values apart from the query's own constants).
_TENANT, _NOW = 987654321, dt.datetime(2001, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
# Only what a push needs: the pending request's key is not decrypted on every push batch.
_IDENTITY_COLUMNS = (
    "tenant_id",
    "topic",
    "certificate_pem",
    "private_key_pem",
    "not_after",
    "is_demo",
)
_identity_row = CompiledRow(
    lambda: (
        valid_certificates(_NOW)
        .filter(tenant_id=_TENANT)
        .order_by("pk")
        .values_list(*_IDENTITY_COLUMNS)[:1]
    ),
    tenant=(PushCertificate._meta.get_field("tenant"), _TENANT),
    now=(PushCertificate._meta.get_field("not_after"), _NOW),
)


def current_push_identity(tenant) -> PushIdentity | None:
    """The tenant's installed, unexpired push certificate, or None (one compiled lookup: every
    push batch makes it)."""
    row = _identity_row.row(tenant=getattr(tenant, "pk", tenant), now=timezone.now())
    if row is None:
        return None
    tenant_id, topic, certificate_pem, private_key_pem, not_after, is_demo = row
    return PushIdentity(
        tenant_id=tenant_id,
        topic=topic,
        certificate_pem=certificate_pem.encode(),
        private_key_pem=private_key_pem.encode(),
        not_after=not_after,
        is_demo=is_demo,
    )


def valid_certificates(now=None):
    """Installed push certificates unexpired at ``now`` (``PushCertificate.is_valid`` as a
    query)."""
    return PushCertificate.objects.exclude(certificate_pem="").filter(
        not_after__gt=now or timezone.now()
    )


def topic_of(tenant_ref, now=None):
    """The topic of the tenant's valid push certificate as an expression (None without one):
    for queries that need it beside other rows (discovery, enrollment profiles), so no key is
    decrypted."""
    return Subquery(valid_certificates(now).filter(tenant=tenant_ref).values("topic")[:1])


def current_topic(tenant) -> str | None:
    """The topic of the tenant's valid push certificate, or None."""
    return valid_certificates().filter(tenant=tenant).values_list("topic", flat=True).first()


def install_demo_push_certificate(tenant, *, days: int = 365) -> PushCertificate:
    """A self-signed stand-in with an MDM-shaped subject, for the embedded demo and tests.

    Apple's push service will not accept it; the portal labels it as a demo everywhere.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    topic = f"{TOPIC_PREFIX}{uuid.uuid4()}"
    subject = x509util.name(cn=f"APSP:demo-{tenant.number}", USER_ID=topic, COUNTRY_NAME="US")
    certificate = x509util.self_signed(key, subject, days=days)
    now = timezone.now()
    values = {
        "apple_id": "demo@example.com",
        "topic": topic,
        "certificate_pem": x509util.certificate_pem(certificate).decode(),
        "private_key_pem": x509util.private_key_pem(key).decode(),
        "serial": format(certificate.serial_number, "x"),
        "not_before": certificate.not_valid_before_utc,
        "not_after": certificate.not_valid_after_utc,
        "is_demo": True,
        "uploaded_at": now,
    }
    cert, _ = PushCertificate.objects.update_or_create(tenant=tenant, defaults=values)
    return cert
