"""The SCEP service of a tenant: its identity CA, one-time challenges, certificate issuance.

- ``scep_url(tenant)``: ``<PORTAL_BASE_URL>/scep/<tenant number>`` (clients add ``?operation=``).
- ``issue_challenge(tenant, subject_cn=…)``: a one-time challenge for the enrollment profile,
  valid for one CSR whose subject CN is ``subject_cn`` (``new_challenge``: the same, unsaved,
  for a caller that stores it with its own writes).
- ``ca_certificate(tenant)`` / ``ca_certificate_pem(tenant)``: the tenant's CA (made on first use).
- ``verify_device_certificate(tenant, cert)``: issued by this tenant's CA and currently valid.
- ``handle_pki_operation(tenant, der)``: a PKCSReq in, a CertRep (success or failure) out.
Issued certificates carry exactly the challenge's CN and ``O=<tenant number>``, whatever else
the CSR asks for: the subject is what routes later check-ins to tenant and enrollment.
"""

import datetime as dt
import functools
import logging
import secrets

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import AttributeOID, ExtendedKeyUsageOID, NameOID
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from apple import x509util
from users import statements
from users.compiled import CompiledRow, attnames, instances
from users.models import Tenant
from users.tenant_lookup import active_tenant

from . import protocol
from .models import IdentityCA, IssuedCertificate, ScepChallenge

log = logging.getLogger("enrollment.scep")

CHALLENGE_TTL = dt.timedelta(hours=1)
CERTIFICATE_LIFETIME = dt.timedelta(days=365)


def scep_url(tenant) -> str:
    return settings.PORTAL_BASE_URL + reverse("scep:service", args=[tenant.number])


def new_challenge(
    tenant, *, subject_cn: str, ttl: dt.timedelta = CHALLENGE_TTL
) -> tuple[str, ScepChallenge]:
    """A one-time challenge and its row, not yet saved: it works once the row is stored."""
    raw = secrets.token_urlsafe(24)
    row = ScepChallenge(
        tenant=tenant,
        digest=ScepChallenge.hash(raw),
        subject_cn=subject_cn,
        expires_at=timezone.now() + ttl,
    )
    return raw, row


def issue_challenge(tenant, *, subject_cn: str, ttl: dt.timedelta = CHALLENGE_TTL) -> str:
    raw, row = new_challenge(tenant, subject_cn=subject_cn, ttl=ttl)
    statements.create(row)
    return raw


def _new_ca(tenant) -> IdentityCA:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509util.name(
        cn=f"MDM Identity CA {tenant.number}", o=tenant.name[:64] or str(tenant.number)
    )
    cert = x509util.self_signed(
        key,
        subject,
        days=3650,
        extensions=[
            (x509.BasicConstraints(ca=True, path_length=0), True),
            (x509.KeyUsage(True, False, True, False, False, True, True, False, False), True),
            (x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False),
        ],
    )
    return IdentityCA(
        tenant=tenant,
        certificate_pem=x509util.certificate_pem(cert).decode(),
        private_key_pem=x509util.private_key_pem(key).decode(),
    )


def _ca_row(tenant) -> IdentityCA:
    ca = IdentityCA.objects.filter(tenant=tenant).first()
    if ca is not None:
        return ca
    try:
        with transaction.atomic():
            ca = _new_ca(tenant)
            ca.save()
            return ca
    except IntegrityError:  # another process made it at the same moment
        return IdentityCA.objects.get(tenant=tenant)


@functools.lru_cache(maxsize=256)
def _load(cert_pem: str, key_pem: str):  # keyed by content: a replaced CA is never stale
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    key = serialization.load_pem_private_key(key_pem.encode(), None)
    return cert, key


def _ca(tenant):
    return loaded(_ca_row(tenant))


def _service_ca_query():
    return (
        IdentityCA.objects.filter(tenant__number=_NUMBER, tenant__is_active=True)
        .order_by("pk")
        .values_list(*attnames(IdentityCA), *(f"tenant__{n}" for n in attnames(Tenant)))[:1]
    )


_NUMBER = 987654321  # the marker of the compiled lookup (any value but the query's constants)
_service_ca_row = CompiledRow(_service_ca_query, number=(Tenant._meta.get_field("number"), _NUMBER))


def service_ca(number: int) -> IdentityCA | None:
    """The CA of the active tenant with this number, its ``tenant`` joined: what every SCEP
    request needs, in one compiled query. None when there is no such tenant."""
    row = _service_ca_row.row(number=number)
    if row is not None:
        ca, tenant = instances(row, (IdentityCA, attnames(IdentityCA)), (Tenant, attnames(Tenant)))
        ca._state.fields_cache["tenant"] = tenant
        return ca
    tenant = active_tenant(number)
    return _ca_row(tenant) if tenant is not None else None


def loaded(row: IdentityCA):
    """(certificate, private key) of a CA row, parsed once per process."""
    return _load(row.certificate_pem, row.private_key_pem)


def ca_certificate(tenant) -> x509.Certificate:
    return _ca(tenant)[0]


def ca_certificate_pem(tenant) -> bytes:
    return ca_certificate(tenant).public_bytes(serialization.Encoding.PEM)


@functools.lru_cache(maxsize=256)
def _parse_certificate(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def verify_device_certificate(tenant, certificate: x509.Certificate) -> bool:
    pem = IdentityCA.objects.filter(tenant=tenant).values_list("certificate_pem", flat=True).first()
    if pem is None:
        return False
    if not x509util.signed_by(certificate, _parse_certificate(pem)):
        return False
    now = timezone.now()
    return certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc


class ScepFailure(Exception):
    def __init__(self, reason: str, fail_info: str = protocol.FAIL_BAD_REQUEST):
        super().__init__(reason)
        self.fail_info = fail_info


_CLAIM = (
    "UPDATE scep_scepchallenge SET used_at = %s WHERE tenant_id = %s AND digest = %s "
    "AND subject_cn = %s AND used_at IS NULL AND expires_at > %s RETURNING id"
)


# On PostgreSQL the claim and the record of the certificate are one statement: the INSERT
# takes the claimed challenge's id, so nothing is recorded when the claim fails.
_CLAIM_AND_RECORD = (
    f"WITH claimed AS ({_CLAIM}) INSERT INTO {IssuedCertificate._meta.db_table} "  # noqa: S608 - the model's name
    "(tenant_id, serial, subject, not_after, challenge_id, transaction_id, issued_at) "
    "SELECT %s, %s, %s, %s, id, %s, %s FROM claimed RETURNING challenge_id"
)


def _claim_and_record(tenant, raw: str, subject_cn: str, issued, transaction_id: str) -> None:
    """Mark the challenge used and record the certificate issued for it, atomically: of two
    racing requests only one wins. A good challenge costs one statement on PostgreSQL (a
    transaction of two elsewhere); only a refusal reads the challenge again to say why."""
    digest, now = ScepChallenge.hash(raw), timezone.now()
    at = connection.ops.adapt_datetimefield_value(now)
    claim = [at, tenant.pk, digest, subject_cn, at]
    serial, subject = format(issued.serial_number, "x"), issued.subject.rfc4514_string()[:300]
    not_after, transaction_id = issued.not_valid_after_utc, transaction_id[:128]
    if connection.vendor == "postgresql":
        recorded = [tenant.pk, serial, subject, not_after, transaction_id, at]
        with connection.cursor() as cursor:
            cursor.execute(_CLAIM_AND_RECORD, claim + recorded)
            claimed = cursor.fetchone()
    else:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_CLAIM, claim)
            claimed = cursor.fetchone()
            if claimed is not None:
                statements.create(
                    IssuedCertificate(
                        tenant=tenant,
                        serial=serial,
                        subject=subject,
                        not_after=not_after,
                        challenge_id=claimed[0],
                        transaction_id=transaction_id,
                    )
                )
    if claimed is None:
        _refuse_claim(tenant, digest, subject_cn, now)


def _refuse_claim(tenant, digest: str, subject_cn: str, now) -> None:
    """Why a challenge could not be claimed, as a ScepFailure."""
    challenge = ScepChallenge.objects.filter(tenant=tenant, digest=digest).first()
    if challenge is None:
        raise ScepFailure("unknown challenge")
    if challenge.expires_at <= now:
        raise ScepFailure("expired challenge")
    if challenge.subject_cn != subject_cn:
        raise ScepFailure("the CSR's subject does not match the challenge")
    raise ScepFailure("challenge already used")


def _csr_fields(csr: x509.CertificateSigningRequest) -> tuple[str, str]:
    # cryptography parses CSRs lazily: any part may raise on a corrupt one.
    try:
        key = csr.public_key()
        valid = csr.is_signature_valid
        names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        cn = names[0].value if len(names) == 1 else ""
        raw = csr.attributes.get_attribute_for_oid(AttributeOID.CHALLENGE_PASSWORD).value
    except x509.AttributeNotFound as exc:
        raise ScepFailure("the CSR has no challenge password") from exc
    except Exception as exc:  # ValueError, UnsupportedAlgorithm, ...
        raise ScepFailure(f"corrupt CSR: {type(exc).__name__}: {exc}") from exc
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise ScepFailure("the CSR's key is neither RSA nor EC", protocol.FAIL_BAD_ALG)
    if not valid:
        raise ScepFailure("the CSR signature is invalid", protocol.FAIL_BAD_MESSAGE_CHECK)
    challenge = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
    return (cn if isinstance(cn, str) else ""), challenge


def _issue(tenant, ca, csr, subject_cn: str) -> x509.Certificate:
    ca_cert, ca_key = ca
    now = timezone.now()
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, str(tenant.number)),
            x509.NameAttribute(NameOID.COMMON_NAME, subject_cn),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + CERTIFICATE_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, True, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )


def handle_pki_operation(tenant, der: bytes, *, ca: IdentityCA | None = None) -> bytes:
    """Answer a PKCSReq with a CertRep (``ca``: the tenant's CA row, when the caller has it).
    Raises ``ScepProtocolError`` when not even a reply can be addressed (unsigned or
    unreadable message)."""
    ca_cert, ca_key = loaded(ca) if ca is not None else _ca(tenant)
    try:
        request = protocol.parse_pki_message(der)
    except protocol.MalformedPkiMessage as exc:
        log.info("SCEP request refused for tenant %s: %s", tenant.number, exc)
        return protocol.cert_rep(exc.reply_to, ca_cert, ca_key, fail_info=exc.fail_info)
    try:
        if request.message_type not in (protocol.PKCS_REQ, protocol.RENEWAL_REQ):
            raise ScepFailure(f"unsupported messageType {request.message_type}")
        try:
            csr_der = protocol.decrypt_envelope(request.envelope, ca_key)
            csr = x509.load_der_x509_csr(csr_der)
        except protocol.ScepProtocolError as exc:
            raise ScepFailure(str(exc), exc.fail_info) from exc
        except ValueError as exc:
            raise ScepFailure(f"not a CSR: {exc}") from exc
        # The answer is encrypted to the signer's key, which only works with RSA.
        if not isinstance(request.signer.public_key(), rsa.RSAPublicKey):
            raise ScepFailure("the request is not signed with an RSA key", protocol.FAIL_BAD_ALG)
        subject_cn, raw_challenge = _csr_fields(csr)
        # Signed first, so that claiming the challenge and recording the certificate are one
        # write; a refused claim discards it unsent.
        issued = _issue(tenant, (ca_cert, ca_key), csr, subject_cn)
        _claim_and_record(tenant, raw_challenge, subject_cn, issued, request.transaction_id)
    except ScepFailure as exc:
        log.info("SCEP request refused for tenant %s: %s", tenant.number, exc)
        return protocol.cert_rep(request, ca_cert, ca_key, fail_info=exc.fail_info)
    return protocol.cert_rep(request, ca_cert, ca_key, issued=issued)
