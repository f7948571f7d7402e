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
from asn1crypto import core
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
            cert = x509.load_der_x509_certificate(choice.chosen.dump())
            # cryptography parses names lazily: a malformed one would raise in the caller.
            cert.subject.rfc4514_string()
            cert.issuer.rfc4514_string()
        except ValueError:
            continue
        result.append((choice.chosen, cert))
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
    try:
        key = cert.public_key()
    except (ValueError, TypeError) as exc:  # e.g. a key algorithm cryptography does not know
        raise CMSError(f"unsupported signer key: {exc}") from exc
    try:
        if isinstance(key, rsa.RSAPublicKey):
            if algorithm not in ("rsassa_pkcs1v15", "rsassa_pss"):
                raise CMSError(f"signature algorithm {algorithm} does not fit an RSA key")
            pad = (
                padding.PSS(mgf=padding.MGF1(hash_cls()), salt_length=padding.PSS.AUTO)
                if algorithm == "rsassa_pss"
                else padding.PKCS1v15()
            )
            key.verify(signature, data, pad, hash_cls())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            if algorithm != "ecdsa":
                raise CMSError(f"signature algorithm {algorithm} does not fit an EC key")
            key.verify(signature, data, ec.ECDSA(hash_cls()))
        else:
            raise CMSError("unsupported signer key type")
    except InvalidSignature as exc:
        raise CMSError("the signature does not match") from exc


class _AnyValues(core.SetOf):
    _child_spec = core.Any


class _RawAttribute(core.Sequence):
    _fields = [("type", asn1_cms.CMSAttributeType), ("values", _AnyValues)]


class _RawAttributes(core.SetOf):
    """Signed attributes with their values left undecoded: a mistyped value of an attribute
    CMS does not need (e.g. SCEP's) must not stop the signature check."""

    _child_spec = _RawAttribute


def raw_signed_attributes(signer_info) -> list[tuple[str, list[core.Any]]]:
    """``[(type name or dotted OID, [undecoded values])]`` of a SignerInfo's signed attributes;
    decode a value with ``value.parse(spec)``. Raises ``CMSError`` on malformed structure."""
    signed_attrs = signer_info["signed_attrs"]
    if isinstance(signed_attrs, core.Void):
        return []
    try:
        raw = _RawAttributes.load(b"\x31" + signed_attrs.dump()[1:], strict=True)
        return [(a["type"].native, list(a["values"])) for a in raw]
    except Exception as exc:  # asn1crypto raises many kinds of errors on garbage
        raise CMSError(f"malformed signed attributes: {exc}") from exc


# What Apple devices, scepclient and this module itself send; anything else is refused rather
# than interpreted (strictness costs nothing here and removes whole classes of odd inputs).
_SIGNED_DATA_VERSIONS = {"v1", "v3"}
_SIGNER_INFO_VERSIONS = {"v1": "issuer_and_serial_number", "v3": "subject_key_identifier"}
_SIGNATURE_ALGORITHMS = {"rsassa_pkcs1v15", "rsassa_pss", "ecdsa"}


def verify(der: bytes, *, detached_content: bytes | None = None) -> VerifiedMessage:
    """The one error boundary of this parser: any failure on any input is a ``CMSError``."""
    if not isinstance(der, bytes | bytearray) or not der:
        raise CMSError("not a CMS message: empty or not bytes")
    try:
        return _verify(bytes(der), detached_content)
    except CMSError:
        raise
    except Exception as exc:  # asn1crypto/cryptography raise many kinds of errors on garbage
        raise CMSError(f"not a CMS message: {type(exc).__name__}: {exc}") from exc


def _verify(der: bytes, detached_content: bytes | None) -> VerifiedMessage:
    # strict: trailing bytes after the ContentInfo are refused.
    info = asn1_cms.ContentInfo.load(der, strict=True)
    if info["content_type"].native != "signed_data":
        raise CMSError("not a CMS SignedData message")
    signed_data = info["content"]
    if signed_data["version"].native not in _SIGNED_DATA_VERSIONS:
        raise CMSError(f"unsupported SignedData version {signed_data['version'].native}")
    encap_info = signed_data["encap_content_info"]
    if encap_info["content_type"].native != "data":
        raise CMSError("the signed content is not of type data")
    encap = encap_info["content"]
    if detached_content is not None:
        if encap.native is not None:
            raise CMSError("a detached signature must not carry content")
        content = detached_content
    else:
        content = encap.native if encap is not None else None
    if content is None:
        raise CMSError("detached signature without content")
    if not isinstance(content, bytes):
        raise CMSError("the signed content is not an OCTET STRING")
    signer_infos = list(signed_data["signer_infos"])
    if len(signer_infos) != 1:
        raise CMSError(f"expected exactly one signer, found {len(signer_infos)}")
    signer_info = signer_infos[0]
    if _SIGNER_INFO_VERSIONS.get(signer_info["version"].native) != signer_info["sid"].name:
        raise CMSError("SignerInfo version does not fit its signer identifier")
    digest_algorithms = {a["algorithm"].native for a in signed_data["digest_algorithms"]}
    hash_name = signer_info["digest_algorithm"]["algorithm"].native
    if hash_name not in _HASHES:
        raise CMSError(f"unsupported digest {hash_name}")
    if hash_name not in digest_algorithms:
        raise CMSError("the signer's digest is not among the message's digest algorithms")
    try:
        algorithm = signer_info["signature_algorithm"].signature_algo
    except ValueError as exc:
        raise CMSError(f"unsupported signature algorithm: {exc}") from exc
    if algorithm not in _SIGNATURE_ALGORITHMS:
        raise CMSError(f"unsupported signature algorithm {algorithm}")
    signature = signer_info["signature"].native
    if signer_info["unsigned_attrs"].native:
        raise CMSError("unsigned attributes are not accepted")
    certificates = _certificates(signed_data)
    signer = _find_signer(signer_info, certificates)
    signed_attrs = signer_info["signed_attrs"]
    if not isinstance(signed_attrs, core.Void):
        attributes = raw_signed_attributes(signer_info)
        if not attributes:
            raise CMSError("empty signed attributes")
        by_type: dict[str, list] = {}
        for name, values in attributes:
            # Only the attributes CMS itself needs are decoded here; the others (e.g. SCEP's)
            # are the caller's to read, after the signature is known to be good.
            if name in ("message_digest", "content_type"):
                if len(values) != 1:
                    raise CMSError(f"attribute {name} needs exactly one value")
                spec = asn1_cms.CMSAttribute._oid_specs[name]._child_spec
                by_type.setdefault(name, []).append(values[0].parse(spec).native)
        digests = by_type.get("message_digest", [])
        if len(digests) != 1 or not isinstance(digests[0], bytes):
            raise CMSError("signed attributes without one message digest")
        if by_type.get("content_type", ["data"]) != ["data"]:
            raise CMSError("the signed content type attribute is not data")
        if hashlib.new(hash_name, content).digest() != digests[0]:
            raise CMSError("the content does not match the signed digest")
        # The signature covers the attributes DER-encoded as a SET, not as the [0] field.
        data = b"\x31" + signed_attrs.dump()[1:]
    else:
        data = content
    _verify_signature(signer, signature, data, hash_name, algorithm)
    return VerifiedMessage(content, signer, tuple(c for _, c in certificates))
