"""CMS (PKCS #7) SignedData: signing profiles and messages, verifying what devices sign.

No Django here. ``sign`` makes DER SignedData with SHA-256 and signed attributes (attached for
enrollment profiles and machine info, detached for ``Mdm-Signature``). ``verify`` checks one
signer's signature over the content (RSA PKCS #1 v1.5 or PSS, ECDSA; SHA-1/-2 digests; with or
without signed attributes) and returns the content and the signer's certificate. Whether that
certificate is trusted is the caller's question (e.g. ``enrollment.scep.services``).

Devices sign every request, so ``verify`` first tries a narrow reader of the one shape they
send (DER, one signer named by issuer and serial, plain certificates): it takes the message
apart by byte offsets, reuses the certificates already loaded for the same certificate bytes,
and checks the digest and the signature as always. It only ever accepts; anything it does not
know, and every failure, goes to the full parser, which decides and words the error.
"""

import functools
import hashlib
from dataclasses import dataclass

from asn1crypto import algos, core
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
    try:
        key = cert.public_key()
    except (ValueError, TypeError) as exc:  # e.g. a key algorithm cryptography does not know
        raise CMSError(f"unsupported signer key: {exc}") from exc
    _verify_with_key(key, signature, data, hash_name, algorithm)


def _verify_with_key(key, signature: bytes, data: bytes, hash_name: str, algorithm: str) -> None:
    hash_cls = _HASHES.get(hash_name)
    if hash_cls is None:
        raise CMSError(f"unsupported digest {hash_name}")
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
        der = bytes(der)
        return _verify_known_shape(der, detached_content) or _verify(der, detached_content)
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


# --- the narrow reader of what devices send ------------------------------------------------


class _Unusual(Exception):
    """Not a shape the narrow reader knows: the full parser decides."""


# (tag, start of the element, start of its contents, end of its contents, end of the element)
_Element = tuple[int, int, int, int, int]
_MAX_NESTING = 12


def _element(data: bytes, pos: int, end: int, depth: int = 0) -> _Element:
    """The BER element at ``pos``: low tag numbers, minimal definite lengths, and the
    indefinite lengths Apple's encoder writes around the SignedData."""
    if pos + 2 > end or depth > _MAX_NESTING:
        raise _Unusual
    start, tag, length = pos, data[pos], data[pos + 1]
    pos += 2
    if tag & 0x1F == 0x1F:
        raise _Unusual
    if length == 0x80:  # indefinite: the contents run to an end-of-contents marker
        if not tag & 0x20:
            raise _Unusual
        inner = pos
        while data[pos : pos + 2] != b"\x00\x00":
            pos = _element(data, pos, end, depth + 1)[4]
        return tag, start, inner, pos, pos + 2
    if length & 0x80:
        size = length & 0x7F
        if size > 4 or pos + size > end or data[pos] == 0:
            raise _Unusual
        length = int.from_bytes(data[pos : pos + size], "big")
        pos += size
        if length < 0x80:
            raise _Unusual
    if pos + length > end:
        raise _Unusual
    return tag, start, pos, pos + length, pos + length


def _children(data: bytes, element: _Element) -> list[_Element]:
    result, pos = [], element[2]
    while pos < element[3]:
        child = _element(data, pos, element[3])
        result.append(child)
        pos = child[4]
    return result


def _whole(data: bytes, element: _Element) -> bytes:
    return data[element[1] : element[4]]


def _contents(data: bytes, element: _Element) -> bytes:
    return data[element[2] : element[3]]


def _tags(elements: list[_Element]) -> list[int]:
    return [e[0] for e in elements]


_OID_SIGNED_DATA = bytes.fromhex("2a864886f70d010702")
_DATA_CONTENT_TYPE = bytes.fromhex("06092a864886f70d010701")
_VERSION_1, _VERSION_3 = b"\x02\x01\x01", b"\x02\x01\x03"


# What the full parser makes of an encoding, computed once per distinct encoding.
@functools.lru_cache(maxsize=64)
def _digest_name(algorithm_der: bytes) -> str:
    return algos.DigestAlgorithm.load(algorithm_der, strict=True)["algorithm"].native


@functools.lru_cache(maxsize=64)
def _signature_name(algorithm_der: bytes) -> str:
    return algos.SignedDigestAlgorithm.load(algorithm_der, strict=True).signature_algo


@functools.lru_cache(maxsize=64)
def _attribute_type(oid_der: bytes) -> str:
    return asn1_cms.CMSAttributeType.load(oid_der, strict=True).native


def _issuer_and_serial(cert_der: bytes) -> bytes:
    """The DER of issuer and serial number of a certificate, as a SignerInfo names them."""
    tbs = _element(cert_der, _element(cert_der, 0, len(cert_der))[2], len(cert_der))
    fields = _children(cert_der, tbs)
    if fields and fields[0][0] == 0xA0:  # explicit version
        fields = fields[1:]
    if tbs[0] != 0x30 or len(fields) < 3 or fields[0][0] != 0x02 or fields[2][0] != 0x30:
        raise _Unusual
    serial = _contents(cert_der, fields[0])
    if len(serial) > 1 and (serial[0], serial[1] >> 7) in ((0, 0), (0xFF, 1)):
        raise _Unusual  # not minimal: equal bytes would no longer mean equal numbers
    return _whole(cert_der, fields[2]) + _whole(cert_der, fields[0])


@functools.lru_cache(maxsize=4096)
def _certificate_set(field: bytes):
    """The certificates of a message's [0] field, loaded once per distinct bytes (a device
    sends the same identity with every request): ``(certificates, {issuer+serial: (cert,
    key)})``, or None when the set holds something the narrow reader does not handle."""
    certificates, signers = [], {}
    try:
        for element in _children(field, (0x31, 0, 0, len(field), len(field))):
            if element[0] != 0x30:
                return None
            der = _whole(field, element)
            try:
                cert = x509.load_der_x509_certificate(der)
                cert.subject.rfc4514_string()
                cert.issuer.rfc4514_string()
            except ValueError:
                continue  # dropped, as the full parser drops it
            try:
                key = cert.public_key()
            except (ValueError, TypeError):
                key = None
            certificates.append(cert)
            signers.setdefault(_issuer_and_serial(der), (cert, key))
    except _Unusual:
        return None
    return tuple(certificates), signers


def _verify_known_shape(der: bytes, detached_content: bytes | None) -> VerifiedMessage | None:
    """The verified message when ``der`` has the shape devices send and verifies; else None."""
    try:
        return _read_known_shape(der, detached_content)
    except Exception:  # noqa: BLE001 - whatever surprised the reader, the full parser decides
        return None


def _read_known_shape(der: bytes, detached_content: bytes | None) -> VerifiedMessage | None:
    outer = _element(der, 0, len(der))
    info = _children(der, outer)
    if outer[0] != 0x30 or outer[4] != len(der) or _tags(info) != [0x06, 0xA0]:
        return None
    wrapped = _children(der, info[1])
    if _contents(der, info[0]) != _OID_SIGNED_DATA or _tags(wrapped) != [0x30]:
        return None
    fields = _children(der, wrapped[0])
    if _tags(fields) != [0x02, 0x31, 0x30, 0xA0, 0x31]:
        return None  # no certificates, CRLs present, or not a SignedData at all
    version, digests, encap, certificates, signer_infos = fields
    if _whole(der, version) not in (_VERSION_1, _VERSION_3):
        return None
    digest_names = {_digest_name(_whole(der, a)) for a in _children(der, digests)}
    encap_fields = _children(der, encap)
    if not encap_fields or _whole(der, encap_fields[0]) != _DATA_CONTENT_TYPE:
        return None
    if detached_content is not None:
        if len(encap_fields) != 1:
            return None
        content = detached_content
    else:
        if _tags(encap_fields) != [0x06, 0xA0]:
            return None
        octets = _children(der, encap_fields[1])
        if _tags(octets) == [0x04]:
            content = _contents(der, octets[0])
        elif _tags(octets) == [0x24]:  # constructed, as Apple's encoder writes it: the chunks
            chunks = _children(der, octets[0])
            if set(_tags(chunks)) - {0x04}:
                return None
            content = b"".join(_contents(der, chunk) for chunk in chunks)
        else:
            return None
    signers = _children(der, signer_infos)
    if _tags(signers) != [0x30]:
        return None
    signer = _children(der, signers[0])
    if _tags(signer) != [0x02, 0x30, 0x30, 0xA0, 0x30, 0x04]:
        return None  # v3 signers, no signed attributes, or unsigned attributes
    s_version, sid, digest_algorithm, attributes, signature_algorithm, signature = signer
    if _whole(der, s_version) != _VERSION_1:
        return None
    hash_name = _digest_name(_whole(der, digest_algorithm))
    algorithm = _signature_name(_whole(der, signature_algorithm))
    if hash_name not in _HASHES or hash_name not in digest_names:
        return None
    if algorithm not in _SIGNATURE_ALGORITHMS:
        return None
    loaded = _certificate_set(_contents(der, certificates))
    if loaded is None:
        return None
    found = loaded[1].get(_contents(der, sid))
    if found is None or found[1] is None:
        return None
    digest, content_types = None, 0
    for attribute in _children(der, attributes):
        parts = _children(der, attribute)
        if attribute[0] != 0x30 or _tags(parts) != [0x06, 0x31]:
            return None
        name = _attribute_type(_whole(der, parts[0]))
        values = _children(der, parts[1])
        if name == "message_digest":
            if digest is not None or _tags(values) != [0x04]:
                return None
            digest = _contents(der, values[0])
        elif name == "content_type":
            content_types += 1
            if len(values) != 1 or _whole(der, values[0]) != _DATA_CONTENT_TYPE:
                return None
    if content_types > 1 or digest is None:
        return None
    if hashlib.new(hash_name, content).digest() != digest:
        return None
    # The signature covers the attributes as a SET (tag 0x31), not as the [0] field.
    data = b"\x31" + der[attributes[1] + 1 : attributes[4]]
    _verify_with_key(found[1], _contents(der, signature), data, hash_name, algorithm)
    return VerifiedMessage(content, found[0], loaded[0])
