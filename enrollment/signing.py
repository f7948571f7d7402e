"""The identity that signs enrollment profiles (CMS SignedData, attached).

Production points ``PROFILE_SIGNING_CERT``/``PROFILE_SIGNING_KEY`` at a publicly trusted
certificate (often the TLS certificate of the portal's host), so devices show "Verified". The
embedded default makes a local signing certificate once, under ``VAR_DIR``.
"""

import datetime as dt
import functools
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings

from apple import cms


@functools.cache
def _load(cert_path: str, key_path: str):
    pem = Path(cert_path).read_bytes()
    chain = x509.load_pem_x509_certificates(pem)
    key = serialization.load_pem_private_key(Path(key_path).read_bytes(), None)
    return chain[0], key, tuple(chain[1:])


def _local_paths() -> tuple[str, str]:
    directory = Path(settings.VAR_DIR) / "profile-signing"
    cert_path, key_path = directory / "signing.pem", directory / "signing.key"
    if not cert_path.exists() or not key_path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "MDM Portal local"),
                x509.NameAttribute(NameOID.COMMON_NAME, "MDM Portal profile signing (local)"),
            ]
        )
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(
                x509.KeyUsage(True, False, False, False, False, False, False, False, False),
                critical=True,
            )
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


def signing_identity():
    """(certificate, private key, extra chain certificates)."""
    if settings.PROFILE_SIGNING_CERT and settings.PROFILE_SIGNING_KEY:
        return _load(settings.PROFILE_SIGNING_CERT, settings.PROFILE_SIGNING_KEY)
    return _load(*_local_paths())


def sign_profile(xml: bytes) -> bytes:
    certificate, key, chain = signing_identity()
    return cms.sign(xml, certificate, key, certificates=chain)
