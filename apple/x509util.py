"""Small X.509 helpers shared by every place that makes its own certificates: the stand-in
vendor and profile-signing identities, the demo push certificate, the device simulator."""

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

CLOCK_SKEW = dt.timedelta(minutes=5)


def name(*, cn: str, o: str | None = None, **oids) -> x509.Name:
    """``name(cn="x", o="y", USER_ID="topic")``: attributes by NameOID member name."""
    attributes = [x509.NameAttribute(getattr(NameOID, k), v) for k, v in oids.items()]
    if o:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, o))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attributes)


def self_signed(key, subject: x509.Name, *, days: int, extensions=()) -> x509.Certificate:
    """A self-signed certificate valid from a little before now (clocks differ) for ``days``."""
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + dt.timedelta(days=days))
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(key, hashes.SHA256())


def private_key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def certificate_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def local_identity(
    directory: Path, stem: str, subject: x509.Name, *, extensions=()
) -> tuple[str, str]:
    """Paths of ``<stem>.pem``/``<stem>.key`` in ``directory``, made once (RSA 2048, ten years)."""
    cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}.key"
    if not cert_path.exists() or not key_path.exists():
        from users.files import private_dir, write_private

        private_dir(directory)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert = self_signed(key, subject, days=3650, extensions=extensions)
        write_private(key_path, private_key_pem(key))
        cert_path.write_bytes(certificate_pem(cert))
    return str(cert_path), str(key_path)


def load_identity(cert_path: str, key_path: str) -> tuple[tuple[x509.Certificate, ...], object]:
    """(certificate chain, private key) from PEM files; the chain starts with the leaf."""
    chain = tuple(x509.load_pem_x509_certificates(Path(cert_path).read_bytes()))
    key = serialization.load_pem_private_key(Path(key_path).read_bytes(), None)
    return chain, key


def signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer``'s key made ``cert``'s signature (RSA PKCS #1 v1.5 or ECDSA)."""
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec, padding

    if cert.issuer != issuer.subject:
        return False
    key = issuer.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(
                cert.signature,
                cert.tbs_certificate_bytes,
                padding.PKCS1v15(),
                cert.signature_hash_algorithm,
            )
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(
                cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm)
            )
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, TypeError, ValueError):
        # A signature algorithm the library does not know (a garbled OID) is no proof either.
        return False
    return True
