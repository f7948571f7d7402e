"""The MDM vendor identity that signs push certificate requests (``MDM_VENDOR_CERT``/``KEY``).

Apple's Push Certificates Portal accepts only requests signed with a vendor certificate Apple
issued. Without one configured, the embedded default makes a clearly labelled local stand-in so
the request can be produced and inspected end to end; Apple will refuse it.
"""

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings

STAND_IN_CN = "LOCAL STAND-IN MDM Vendor (not accepted by Apple)"


@dataclass(frozen=True)
class VendorIdentity:
    chain: tuple[x509.Certificate, ...]  # vendor certificate first, then its issuers
    private_key: object
    is_stand_in: bool


@functools.cache
def _load(cert_path: str, key_path: str, stand_in: bool) -> VendorIdentity:
    chain = tuple(x509.load_pem_x509_certificates(Path(cert_path).read_bytes()))
    key = serialization.load_pem_private_key(Path(key_path).read_bytes(), None)
    return VendorIdentity(chain, key, stand_in)


def _stand_in_paths() -> tuple[str, str]:
    directory = Path(settings.VAR_DIR) / "vendor"
    cert_path, key_path = directory / "stand-in-vendor.pem", directory / "stand-in-vendor.key"
    if not cert_path.exists() or not key_path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, STAND_IN_CN)])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=3650))
            .sign(key, hashes.SHA256())
        )
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        key_path.chmod(0o600)
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(cert_path), str(key_path)


def vendor_identity() -> VendorIdentity:
    if settings.MDM_VENDOR_CERT and settings.MDM_VENDOR_KEY:
        return _load(settings.MDM_VENDOR_CERT, settings.MDM_VENDOR_KEY, False)
    return _load(*_stand_in_paths(), True)
