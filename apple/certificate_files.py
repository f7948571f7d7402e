"""Reading uploaded certificate files: PEM or DER certificates, PKCS #12 bundles, PEM keys.

Pure functions; every problem raises ``CertificateFileError`` with a message for the admin.
"""

from dataclasses import dataclass

from asn1crypto import pkcs12 as asn1_pkcs12
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from django.utils.translation import gettext as _

from . import x509util

MAX_FILE = 256 * 1024  # certificate, key or .p12: the rule for every path (web, API)


class CertificateFileError(ValueError):
    pass


@dataclass(frozen=True)
class CertificateAndKey:
    certificate: x509.Certificate
    private_key: object | None  # None when the file held only the certificate


def _is_pkcs12(data: bytes) -> bool:
    try:
        pfx = asn1_pkcs12.Pfx.load(data)
        return pfx["version"].native == "v3" and pfx["auth_safe"]["content_type"].native in (
            "data",
            "signed_data",
        )
    except Exception:  # noqa: BLE001 - anything unparsable is simply not PKCS #12
        return False


def load_key(data: bytes, password: str = ""):
    if len(data) > MAX_FILE:
        raise CertificateFileError(_("The file is too large for a private key."))
    try:
        return serialization.load_pem_private_key(data, password.encode() or None)
    except TypeError as exc:
        if "not encrypted" in str(exc):
            return serialization.load_pem_private_key(data, None)
        raise CertificateFileError(_("The private key is encrypted: enter its password.")) from exc
    except ValueError as exc:
        if b"ENCRYPTED" in data and password:
            raise CertificateFileError(_("Wrong password for the private key.")) from exc
        raise CertificateFileError(_("The key file is not a PEM private key.")) from exc


def read(data: bytes, password: str = "") -> CertificateAndKey:
    """A certificate (with its key when the file carries one) from PEM, DER or PKCS #12."""
    if not data:
        raise CertificateFileError(_("The file is empty."))
    if len(data) > MAX_FILE:
        raise CertificateFileError(_("The file is too large for a certificate."))
    if _is_pkcs12(data):
        try:
            key, cert, _extra = pkcs12.load_key_and_certificates(data, password.encode() or None)
        except ValueError as exc:
            raise CertificateFileError(
                _("Wrong password for the .p12/.pfx file.")
                if password
                else _("The .p12/.pfx file is protected: enter its password.")
            ) from exc
        if cert is None:
            raise CertificateFileError(_("The .p12/.pfx file holds no certificate."))
        return CertificateAndKey(cert, key)
    if b"-----BEGIN" in data:
        try:
            certs = x509.load_pem_x509_certificates(data)
        except ValueError as exc:
            raise CertificateFileError(_("The PEM file holds no certificate.")) from exc
        key = load_key(data, password) if b"PRIVATE KEY-----" in data else None
        return CertificateAndKey(certs[0], key)
    try:
        return CertificateAndKey(x509.load_der_x509_certificate(data), None)
    except ValueError as exc:
        raise CertificateFileError(
            _("This is not a certificate file (.pem, .cer, .p12 or .pfx).")
        ) from exc


def same_key(certificate: x509.Certificate, private_key) -> bool:
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return certificate.public_key().public_bytes(serialization.Encoding.DER, spki) == (
        private_key.public_key().public_bytes(serialization.Encoding.DER, spki)
    )


def key_pem(private_key) -> str:
    return x509util.private_key_pem(private_key).decode()


def certificate_pem(certificate: x509.Certificate) -> str:
    return x509util.certificate_pem(certificate).decode()
