"""CMS (PKCS #7) SignedData: signing profiles and messages, verifying what devices sign.

No Django here. ``sign`` makes DER SignedData with SHA-256 and signed attributes (attached for
enrollment profiles and machine info, detached for ``Mdm-Signature``). ``verify`` checks one
signer's signature over the content (RSA PKCS #1 v1.5 or PSS, ECDSA; SHA-1/-2 digests; with or
without signed attributes) and returns the content and the signer's certificate. Whether that
certificate is trusted is the caller's question (e.g. ``enrollment.scep.services``).
"""

import hashlib
from dataclasses import dataclass

from asn1crypto import cms as asn1_cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7

_HASHES = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


class CMSError(ValueError):
    """Not a valid, correctly signed CMS SignedData; the message says what is wrong."""


@dataclass(frozen=True)
class VerifiedMessage:
    content: bytes
    signer: x509.Certificate
    certificates: tuple[x509.Certificate, ...]


def sign(
    content: bytes, certificate, private_key, *, detached: bool = False, certificates=()
) -> bytes:
    builder = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(content)
        .add_signer(certificate, private_key, hashes.SHA256())
    )
    for extra in certificates:
        builder = builder.add_certificate(extra)
    # Binary: sign the bytes as they are (no MIME canonicalisation of line ends).
    options = [pkcs7.PKCS7Options.Binary]
    if detached:
        options.append(pkcs7.PKCS7Options.DetachedSignature)
    return builder.sign(serialization.Encoding.DER, options)


def _certificates(signed_data) -> list[tuple[asn1_cms.CertificateChoices, x509.Certificate]]:
    result = []
    for choice in signed_data["certificates"] or []:
        if choice.name != "certificate":
            continue
        try:
            result.append((choice.chosen, x509.load_der_x509_certificate(choice.chosen.dump())))
        except ValueError:
            continue
    return result


def _find_signer(signer_info, certificates):
    sid = signer_info["sid"]
    if sid.name == "issuer_and_serial_number":
        issuer, serial = sid.chosen["issuer"], sid.chosen["serial_number"].native
        # Signers copy the issuer's DER from their certificate: compare bytes first (5× faster
        # than comparing parsed names), then names as RFC 5280 does, for odd encoders.
        issuer_der = issuer.dump()
        for asn1_cert, cert in certificates:
            if asn1_cert.serial_number == serial and asn1_cert.issuer.dump() == issuer_der:
                return cert
        for asn1_cert, cert in certificates:
            if asn1_cert.serial_number == serial and asn1_cert.issuer == issuer:
                return cert
    elif sid.name == "subject_key_identifier":
        for asn1_cert, cert in certificates:
            if asn1_cert.key_identifier == sid.chosen.native:
                return cert
    raise CMSError("the signer's certificate is not in the message")


def _verify_signature(
    cert: x509.Certificate, signature: bytes, data: bytes, hash_name: str, algorithm: str
) -> None:
    hash_cls = _HASHES.get(hash_name)
    if hash_cls is None:
        raise CMSError(f"unsupported digest {hash_name}")
    key = cert.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            pad = (
                padding.PSS(mgf=padding.MGF1(hash_cls()), salt_length=padding.PSS.AUTO)
                if algorithm == "rsassa_pss"
                else padding.PKCS1v15()
            )
            key.verify(signature, data, pad, hash_cls())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hash_cls()))
        else:
            raise CMSError("unsupported signer key type")
    except InvalidSignature as exc:
        raise CMSError("the signature does not match") from exc


def verify(der: bytes, *, detached_content: bytes | None = None) -> VerifiedMessage:
    try:
        info = asn1_cms.ContentInfo.load(der)
        if info["content_type"].native != "signed_data":
            raise CMSError("not a CMS SignedData message")
        signed_data = info["content"]
        encap = signed_data["encap_content_info"]["content"]
        content = (
            detached_content
            if detached_content is not None
            else (encap.native if encap is not None else None)
        )
        signer_infos = list(signed_data["signer_infos"])
        certificates = _certificates(signed_data)
    except CMSError:
        raise
    except Exception as exc:  # asn1crypto raises a variety of errors on garbage
        raise CMSError(f"not a CMS message: {exc}") from exc
    if content is None:
        raise CMSError("detached signature without content")
    if len(signer_infos) != 1:
        raise CMSError(f"expected exactly one signer, found {len(signer_infos)}")
    signer_info = signer_infos[0]
    signer = _find_signer(signer_info, certificates)
    hash_name = signer_info["digest_algorithm"]["algorithm"].native
    algorithm = signer_info["signature_algorithm"].signature_algo
    signature = signer_info["signature"].native
    signed_attrs = signer_info["signed_attrs"]
    if signed_attrs.native is not None and len(signed_attrs):
        digests = [
            a["values"][0].native for a in signed_attrs if a["type"].native == "message_digest"
        ]
        if len(digests) != 1:
            raise CMSError("signed attributes without one message digest")
        if hash_name not in _HASHES:
            raise CMSError(f"unsupported digest {hash_name}")
        if hashlib.new(hash_name, content).digest() != digests[0]:
            raise CMSError("the content does not match the signed digest")
        # The signature covers the attributes DER-encoded as a SET, not as the [0] field.
        data = b"\x31" + signed_attrs.dump()[1:]
    else:
        data = content
    _verify_signature(signer, signature, data, hash_name, algorithm)
    return VerifiedMessage(content, signer, tuple(c for _, c in certificates))
