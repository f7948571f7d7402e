"""Push certificate lifecycle (adue-protocol.md §6): request, upload, renewal.

1. ``create_request``: a new tenant key (kept encrypted as *pending*) and CSR, wrapped in the
   vendor-signed request Apple's Push Certificates Portal takes (base64 of an XML plist with
   ``PushCertRequestCSR``, ``PushCertCertificateChain``, ``PushCertSignature``).
2. ``install``: Apple's certificate (matched to the pending or the current key) or a bundle
   made elsewhere (.p12, PEM pair). It must be an MDM push certificate, unexpired, with the
   matching key. A renewal keeps the topic; another topic needs ``confirm_new_topic``, because
   every enrolled device then has to enroll again.
"""

import base64
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import certificate_files, plist
from .models import PushCertificate
from .push_identity import TOPIC_PREFIX
from .vendor import vendor_identity


class PushCertificateError(ValueError):
    pass


class TopicChangeNeedsConfirmation(PushCertificateError):
    def __init__(self, old: str, new: str):
        super().__init__(
            _(
                "This certificate has another topic (%(new)s) than the current one (%(old)s). "
                "Every enrolled device would have to enroll again. Renew the existing certificate "
                "with the same Apple ID instead, or confirm the change."
            )
            % {"old": old, "new": new}
        )
        self.old, self.new = old, new


def topic_of(certificate: x509.Certificate) -> str:
    values = certificate.subject.get_attributes_for_oid(NameOID.USER_ID)
    return values[0].value if values else ""


@transaction.atomic
def create_request(tenant, apple_id: str) -> bytes:
    """The request file for Apple's portal; the new key waits, encrypted, for the answer."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, f"MDM push {tenant.number}"),
                    x509.NameAttribute(NameOID.EMAIL_ADDRESS, apple_id),
                ]
            )
        )
        .sign(key, hashes.SHA256())
    )
    csr_der = csr.public_bytes(serialization.Encoding.DER)
    vendor = vendor_identity()
    signature = vendor.private_key.sign(csr_der, padding.PKCS1v15(), hashes.SHA256())
    chain = "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in vendor.chain)
    request = plist.dumps(
        {
            "PushCertRequestCSR": base64.b64encode(csr_der).decode(),
            "PushCertCertificateChain": chain,
            "PushCertSignature": base64.b64encode(signature).decode(),
        }
    )
    row, _created = PushCertificate.objects.select_for_update().get_or_create(tenant=tenant)
    row.pending_apple_id = apple_id
    row.pending_private_key_pem = certificate_files.key_pem(key)
    row.pending_created_at = timezone.now()
    row.save()
    return base64.b64encode(request)


@dataclass(frozen=True)
class Candidate:
    certificate: x509.Certificate
    private_key: object
    topic: str
    uses_pending_key: bool


def _candidate(
    row: PushCertificate | None, data: bytes, password: str, key_data: bytes | None
) -> Candidate:
    parsed = certificate_files.read(data, password)
    cert = parsed.certificate
    topic = topic_of(cert)
    if not topic.startswith(TOPIC_PREFIX):
        raise PushCertificateError(
            _(
                "This is not an MDM push certificate: its subject has no topic starting with "
                "com.apple.mgmt.External."
            )
        )
    if cert.not_valid_after_utc <= timezone.now():
        raise PushCertificateError(
            _("This certificate expired on %(date)s.")
            % {"date": cert.not_valid_after_utc.date().isoformat()}
        )
    keys = []
    if key_data:
        keys.append((certificate_files.load_key(key_data, password), False))
    elif parsed.private_key is not None:
        keys.append((parsed.private_key, False))
    elif row is not None:
        if row.pending_private_key_pem:
            keys.append((certificate_files.load_key(row.pending_private_key_pem.encode()), True))
        if row.private_key_pem:
            keys.append((certificate_files.load_key(row.private_key_pem.encode()), False))
    if not keys:
        raise PushCertificateError(
            _(
                "No private key for this certificate: upload the key too, a .p12 file, or the "
                "certificate Apple issued for this portal's request."
            )
        )
    for key, pending in keys:
        if certificate_files.same_key(cert, key):
            return Candidate(cert, key, topic, pending)
    raise PushCertificateError(
        _(
            "The private key does not match this certificate. Upload the certificate Apple issued "
            "for the latest request of this portal, or the key that belongs to it."
        )
    )


@transaction.atomic
def install(
    tenant,
    data: bytes,
    *,
    password: str = "",
    key_data: bytes | None = None,
    apple_id: str = "",
    confirm_new_topic: bool = False,
) -> PushCertificate:
    """Validate and store a push certificate; the stored one stays untouched on any error."""
    row = PushCertificate.objects.select_for_update().filter(tenant=tenant).first()
    candidate = _candidate(row, data, password, key_data)
    if row is None:
        row = PushCertificate(tenant=tenant)
    elif row.topic and row.topic != candidate.topic and not row.is_demo and not confirm_new_topic:
        raise TopicChangeNeedsConfirmation(row.topic, candidate.topic)
    cert = candidate.certificate
    row.certificate_pem = certificate_files.certificate_pem(cert)
    row.private_key_pem = certificate_files.key_pem(candidate.private_key)
    row.topic = candidate.topic
    row.serial = format(cert.serial_number, "x")
    row.not_before = cert.not_valid_before_utc
    row.not_after = cert.not_valid_after_utc
    row.apple_id = (
        apple_id or (row.pending_apple_id if candidate.uses_pending_key else "") or (row.apple_id)
    )
    row.is_demo = False
    row.uploaded_at = timezone.now()
    row.rejected_at, row.rejection_reason = None, ""
    row.warnings_sent = []
    if candidate.uses_pending_key:
        row.pending_private_key_pem = ""
        row.pending_apple_id = ""
        row.pending_created_at = None
    row.save()
    return row


def mark_rejected(tenant_id: int, reason: str) -> None:
    """APNs refused the certificate (403): every admin page says so until it is replaced."""
    PushCertificate.objects.filter(tenant_id=tenant_id, rejected_at=None).update(
        rejected_at=timezone.now(), rejection_reason=reason[:120]
    )


def clear_rejection(tenant_id: int) -> None:
    """APNs accepted a push again (e.g. after a renewal elsewhere)."""
    PushCertificate.objects.filter(tenant_id=tenant_id).exclude(rejected_at=None).update(
        rejected_at=None, rejection_reason=""
    )
