"""Certificates the apple tests make with cryptography: Apple-like push certificates (UID topic,
issued by a stand-in of Apple's push CA), expired and mismatched variants, PKCS #12 bundles."""

import datetime as dt
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

_NOW = dt.datetime.now(dt.UTC)
_CA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_CA_NAME = x509.Name(
    [
        x509.NameAttribute(
            NameOID.COMMON_NAME, "Apple Application Integration 2 Certification Authority (test)"
        ),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Apple Inc. (test stand-in)"),
    ]
)


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def new_topic() -> str:
    return f"com.apple.mgmt.External.{uuid.uuid4()}"


def push_certificate(
    public_key,
    topic: str | None = None,
    *,
    days: int = 365,
    expired: bool = False,
    mdm: bool = True,
) -> x509.Certificate:
    topic = topic or new_topic()
    attributes = [
        x509.NameAttribute(NameOID.COMMON_NAME, f"APSP:{uuid.uuid4()}"),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
    ]
    if mdm:
        attributes.insert(0, x509.NameAttribute(NameOID.USER_ID, topic))
    start = _NOW - dt.timedelta(days=400 if expired else 1)
    end = _NOW - dt.timedelta(days=35) if expired else _NOW + dt.timedelta(days=days)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name(attributes))
        .issuer_name(_CA_NAME)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .sign(_CA_KEY, hashes.SHA256())
    )


def pem(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def der(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def key_pem(key, password: str | None = None) -> bytes:
    encryption = (
        serialization.BestAvailableEncryption(password.encode())
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def p12(cert, key, password: str) -> bytes:
    return pkcs12.serialize_key_and_certificates(
        b"push", key, cert, None, serialization.BestAvailableEncryption(password.encode())
    )
