"""SCEP messages (RFC 8894): read with asn1crypto, written with `apple.der`; no Django, no
storage.

A ``pkiMessage`` is CMS SignedData whose signed attributes carry the SCEP fields and whose
content is an EnvelopedData (``pkcsPKIEnvelope``) for the other side. Both the server (CertRep)
and the client (PKCSReq) are built from the same pieces here.

Ciphers: iOS encrypts with AES when the caps advertise it; ``scepclient`` 2.1.0 always uses
single DES. ``cryptography``'s PKCS #7 decryption handles AES only, so the content key is
unwrapped with RSA here and DES/3DES run through its decrepit TripleDES (an 8-byte key is single
DES). Answers are always AES-256-CBC.
"""

import hashlib
import os
from dataclasses import dataclass

from asn1crypto import algos, core
from asn1crypto import cms as asn1_cms
from cryptography import x509
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from apple import cms, der

# --- SCEP attribute types, registered with asn1crypto so they (de)serialise by name ----------


class _SetOfPrintableString(core.SetOf):
    _child_spec = core.PrintableString


class _SetOfOctetString(core.SetOf):
    _child_spec = core.OctetString


_SCEP_ATTRIBUTES = {
    "2.16.840.1.113733.1.9.2": ("message_type", _SetOfPrintableString),
    "2.16.840.1.113733.1.9.3": ("pki_status", _SetOfPrintableString),
    "2.16.840.1.113733.1.9.4": ("fail_info", _SetOfPrintableString),
    "2.16.840.1.113733.1.9.5": ("sender_nonce", _SetOfOctetString),
    "2.16.840.1.113733.1.9.6": ("recipient_nonce", _SetOfOctetString),
    "2.16.840.1.113733.1.9.7": ("transaction_id", _SetOfPrintableString),
}
for _oid, (_name, _spec) in _SCEP_ATTRIBUTES.items():
    asn1_cms.CMSAttributeType._map[_oid] = _name
    if asn1_cms.CMSAttributeType._reverse_map is not None:
        asn1_cms.CMSAttributeType._reverse_map[_name] = _oid
    asn1_cms.CMSAttribute._oid_specs[_name] = _spec

PKCS_REQ = "19"
CERT_REP = "3"
RENEWAL_REQ = "17"
STATUS_SUCCESS, STATUS_FAILURE = "0", "2"
FAIL_BAD_ALG, FAIL_BAD_MESSAGE_CHECK, FAIL_BAD_REQUEST = "0", "1", "2"
FAIL_BAD_TIME, FAIL_BAD_CERT_ID = "3", "4"


class ScepProtocolError(ValueError):
    """The message is malformed; ``fail_info`` says which SCEP failure to report."""

    def __init__(self, message: str, fail_info: str = FAIL_BAD_REQUEST):
        super().__init__(message)
        self.fail_info = fail_info


@dataclass(frozen=True)
class PkiMessage:
    message_type: str
    transaction_id: str
    sender_nonce: bytes
    signer: x509.Certificate
    envelope: bytes  # pkcsPKIEnvelope (DER ContentInfo), empty for failures
    pki_status: str = ""
    fail_info: str = ""


class MalformedPkiMessage(ScepProtocolError):
    """Correctly signed, but its SCEP fields are missing or mistyped: answer with a failure
    CertRep addressed with whatever could be read (``reply_to``)."""

    def __init__(self, message: str, reply_to: PkiMessage, fail_info: str = FAIL_BAD_REQUEST):
        super().__init__(message, fail_info)
        self.reply_to = reply_to


def _attribute(attributes, name, kind):
    for attr_name, values in attributes:
        if attr_name == name:
            spec = asn1_cms.CMSAttribute._oid_specs[name]._child_spec
            value = values[0].parse(spec).native
            if not isinstance(value, kind):
                raise TypeError(f"{name} is not {kind.__name__}")
            return value
    return None


def _safe_attribute(attributes, name, kind):
    try:
        return _attribute(attributes, name, kind)
    except Exception:  # mistyped: treated as absent where only a reply needs it
        return None


def parse_pki_message(der: bytes) -> PkiMessage:
    """Verify the signature (by the certificate in the message) and read the SCEP fields.

    ``ScepProtocolError``: unreadable or not correctly signed (no reply possible);
    ``MalformedPkiMessage``: signed, but the SCEP fields are wrong (reply with a failure)."""
    try:
        info = asn1_cms.ContentInfo.load(der)
        # Failure replies carry no envelope: their digest is over empty content.
        absent = info["content"]["encap_content_info"]["content"].native is None
    except Exception as exc:  # asn1crypto raises many kinds of errors on garbage
        raise ScepProtocolError(f"not a pkiMessage: {exc}") from exc
    try:
        verified = cms.verify(der, detached_content=b"" if absent else None)
    except cms.CMSError as exc:
        raise ScepProtocolError(f"bad signature: {exc}", FAIL_BAD_MESSAGE_CHECK) from exc
    signed_attrs = cms.raw_signed_attributes(info["content"]["signer_infos"][0])
    # What a failure reply needs, read leniently first.
    reply_to = PkiMessage(
        message_type="",
        transaction_id=_safe_attribute(signed_attrs, "transaction_id", str) or "",
        sender_nonce=_safe_attribute(signed_attrs, "sender_nonce", bytes) or b"",
        signer=verified.signer,
        envelope=b"",
    )
    try:
        message_type = _attribute(signed_attrs, "message_type", str)
        transaction_id = _attribute(signed_attrs, "transaction_id", str)
        sender_nonce = _attribute(signed_attrs, "sender_nonce", bytes) or b""
        pki_status = _attribute(signed_attrs, "pki_status", str) or ""
        fail_info = _attribute(signed_attrs, "fail_info", str) or ""
    except Exception as exc:  # wrong ASN.1 types inside the SCEP attributes
        raise MalformedPkiMessage(f"malformed SCEP attribute: {exc}", reply_to) from exc
    if not message_type or not transaction_id:
        raise MalformedPkiMessage("messageType or transactionID missing", reply_to)
    return PkiMessage(
        message_type=message_type,
        transaction_id=transaction_id,
        sender_nonce=sender_nonce,
        signer=verified.signer,
        envelope=verified.content,
        pki_status=pki_status,
        fail_info=fail_info,
    )


# --- EnvelopedData ---------------------------------------------------------------------------


def _cipher(name: str, key: bytes, iv: bytes):
    if name == "aes":
        return Cipher(algorithms.AES(key), modes.CBC(iv)), 128
    if name in ("des", "tripledes"):
        # Single DES is 3DES with K1 = K2 = K3 (what scepclient sends).
        return Cipher(TripleDES(key * 3 if len(key) == 8 else key), modes.CBC(iv)), 64
    raise ScepProtocolError(f"unsupported content cipher {name}", FAIL_BAD_ALG)


def _tlv(data: bytes, pos: int) -> tuple[int, int, int, int]:
    """(tag byte, start of value, end of value, end of element) of the TLV at ``pos``."""
    tag = data[pos]
    pos += 1
    if tag & 0x1F == 0x1F:  # high tag number form
        while data[pos] & 0x80:
            pos += 1
        pos += 1
    length = data[pos]
    pos += 1
    if length == 0x80:  # BER indefinite length: children up to the end-of-contents octets
        end = pos
        while data[end : end + 2] != b"\x00\x00":
            end = _tlv(data, end)[3]
        return tag, pos, end, end + 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    return tag, pos, pos + length, pos + length


def _octets(data: bytes, tag: int, start: int, end: int) -> bytes:
    if not tag & 0x20:  # primitive
        return data[start:end]
    chunks, pos = [], start  # constructed: a series of OCTET STRINGs (BER, e.g. Go's pkcs7)
    while pos < end:
        child_tag, child_start, child_end, pos = _tlv(data, pos)
        chunks.append(_octets(data, child_tag, child_start, child_end))
    return b"".join(chunks)


def _encrypted_content(eci: bytes) -> tuple[algos.EncryptionAlgorithm, bytes]:
    """EncryptedContentInfo read by hand: asn1crypto refuses a constructed [0] content."""
    _, _, _, pos = _tlv(eci, 0)  # contentType
    _, _, _, algorithm_end = _tlv(eci, pos)
    algorithm = algos.EncryptionAlgorithm.load(eci[pos:algorithm_end])
    tag, start, end, _ = _tlv(eci, algorithm_end)
    return algorithm, _octets(eci, tag, start, end)


def decrypt_envelope(envelope_der: bytes, private_key) -> bytes:
    try:
        info = asn1_cms.ContentInfo.load(envelope_der)
        if info["content_type"].native != "enveloped_data":
            raise ScepProtocolError("pkcsPKIEnvelope is not EnvelopedData")
        enveloped = info["content"]
        recipient = enveloped["recipient_infos"][0].chosen
        encrypted_key = recipient["encrypted_key"].native
        key_algorithm = recipient["key_encryption_algorithm"]["algorithm"].native
        algorithm, ciphertext = _encrypted_content(enveloped["encrypted_content_info"].contents)
        cipher_name = algorithm.encryption_cipher
        iv = algorithm.encryption_iv
    except ScepProtocolError:
        raise
    except Exception as exc:  # asn1crypto raises many kinds of errors on garbage
        raise ScepProtocolError(f"malformed EnvelopedData: {exc}") from exc
    if key_algorithm == "rsaes_oaep":
        # RSAES-OAEP's default parameters in CMS are SHA-1 (RFC 3560); nothing weak about it here.
        sha1 = hashes.SHA1()  # noqa: S303
        key_padding = asym_padding.OAEP(asym_padding.MGF1(sha1), sha1, None)
    else:
        key_padding = asym_padding.PKCS1v15()
    try:
        content_key = private_key.decrypt(encrypted_key, key_padding)
        cipher, block = _cipher(cipher_name, content_key, iv)
        decryptor = cipher.decryptor()
        padded = decryptor.update(ciphertext) + decryptor.finalize()
        unpadder = padding.PKCS7(block).unpadder()
        return unpadder.update(padded) + unpadder.finalize()
    except ScepProtocolError:
        raise
    except Exception as exc:  # wrong key, key length, IV or padding: all the same to the client
        raise ScepProtocolError(
            f"cannot decrypt the envelope: {exc}", FAIL_BAD_MESSAGE_CHECK
        ) from exc


_OID_DATA = der.oid("1.2.840.113549.1.7.1")
_OID_SIGNED_DATA = der.oid("1.2.840.113549.1.7.2")
_OID_ENVELOPED_DATA = der.oid("1.2.840.113549.1.7.3")
# Algorithm identifiers with NULL parameters, as RFC 4055 and RFC 5754 allow and OpenSSL writes.
_RSA = der.sequence(der.oid("1.2.840.113549.1.1.1"), der.NULL)  # signature and key wrap
_DIGESTS = {
    "sha256": (hashes.SHA256, der.sequence(der.oid("2.16.840.1.101.3.4.2.1"), der.NULL)),
    "sha1": (hashes.SHA1, der.sequence(der.oid("1.3.14.3.2.26"), der.NULL)),
}
_CIPHERS = {"aes": der.oid("2.16.840.1.101.3.4.1.42"), "tripledes": der.oid("1.2.840.113549.3.7")}
_ATTRIBUTE_TYPES = {
    "content_type": "1.2.840.113549.1.9.3",
    "message_digest": "1.2.840.113549.1.9.4",
    **{name: oid for oid, (name, _) in _SCEP_ATTRIBUTES.items()},
}
_OCTET_ATTRIBUTES = {"message_digest", "sender_nonce", "recipient_nonce"}


def encrypt_envelope(content: bytes, recipient: x509.Certificate, *, cipher: str = "aes") -> bytes:
    if cipher == "aes":
        key, iv, block = os.urandom(32), os.urandom(16), 128
        encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    else:
        cipher, key, iv, block = "tripledes", os.urandom(24), os.urandom(8), 64
        encryptor = Cipher(TripleDES(key), modes.CBC(iv)).encryptor()
    padder = padding.PKCS7(block).padder()
    ciphertext = encryptor.update(padder.update(content) + padder.finalize()) + encryptor.finalize()
    encrypted_key = recipient.public_key().encrypt(key, asym_padding.PKCS1v15())
    recipient_info = der.sequence(
        der.integer(0), der.issuer_and_serial(recipient), _RSA, der.octets(encrypted_key)
    )
    encrypted_content_info = der.sequence(
        _OID_DATA,
        der.sequence(_CIPHERS[cipher], der.octets(iv)),
        der.implicit(0, der.octets(ciphertext), constructed=False),
    )
    enveloped = der.sequence(der.integer(0), der.set_of(recipient_info), encrypted_content_info)
    return der.sequence(_OID_ENVELOPED_DATA, der.explicit(0, enveloped))


# --- SignedData with SCEP attributes -----------------------------------------------------------


def _attribute_der(name: str, value) -> bytes:
    if name == "content_type":
        encoded = _OID_DATA
    elif name in _OCTET_ATTRIBUTES:
        encoded = der.octets(value)
    else:
        encoded = der.printable(value)
    return der.sequence(der.oid(_ATTRIBUTE_TYPES[name]), der.set_of(encoded))


def _signed_data(digest_algorithms: bytes, encap: bytes, certificates, signer_infos: bytes):
    certificate_set = b"".join(c.public_bytes(serialization.Encoding.DER) for c in certificates)
    signed = der.sequence(
        der.integer(1),
        der.tlv(0x31, digest_algorithms),
        encap,
        der.explicit(0, certificate_set),  # [0] IMPLICIT SET OF: constructed, in given order
        der.tlv(0x31, signer_infos),
    )
    return der.sequence(_OID_SIGNED_DATA, der.explicit(0, signed))


def sign_pki_message(
    content: bytes | None,
    certificate: x509.Certificate,
    private_key,
    attributes: dict,
    *,
    digest: str = "sha256",
) -> bytes:
    """CMS SignedData over ``content`` (absent for failure replies) with SCEP attributes."""
    hash_cls, digest_algorithm = _DIGESTS[digest]
    attrs = {
        "content_type": None,
        "message_digest": hashlib.new(digest, content or b"").digest(),
        **attributes,
    }
    # The signature is over the attributes as a SET OF; the SignerInfo carries them as [0].
    signed_attrs = der.set_of(*(_attribute_der(name, value) for name, value in attrs.items()))
    signature = private_key.sign(signed_attrs, asym_padding.PKCS1v15(), hash_cls())
    signer_info = der.sequence(
        der.integer(1),
        der.issuer_and_serial(certificate),
        digest_algorithm,
        der.implicit(0, signed_attrs),
        _RSA,
        der.octets(signature),
    )
    encap = _OID_DATA if content is None else _OID_DATA + der.explicit(0, der.octets(content))
    return _signed_data(digest_algorithm, der.sequence(encap), [certificate], signer_info)


def certs_only(certificates: list[x509.Certificate]) -> bytes:
    """A degenerate SignedData carrying certificates (the issued certificate in a CertRep)."""
    return _signed_data(b"", der.sequence(_OID_DATA), certificates, b"")


def read_certs_only(der: bytes) -> list[x509.Certificate]:
    info = asn1_cms.ContentInfo.load(der)
    return [
        x509.load_der_x509_certificate(choice.chosen.dump())
        for choice in info["content"]["certificates"] or []
        if choice.name == "certificate"
    ]


def cert_rep(request: PkiMessage, ca_cert, ca_key, *, issued=None, fail_info=None) -> bytes:
    """The CA's answer: success with the issued certificate, or failure with ``fail_info``."""
    attributes = {
        "message_type": CERT_REP,
        "transaction_id": request.transaction_id,
        "sender_nonce": os.urandom(16),
        "recipient_nonce": request.sender_nonce or os.urandom(16),
    }
    if issued is None:
        attributes |= {"pki_status": STATUS_FAILURE, "fail_info": fail_info or FAIL_BAD_REQUEST}
        return sign_pki_message(None, ca_cert, ca_key, attributes)
    attributes["pki_status"] = STATUS_SUCCESS
    envelope = encrypt_envelope(certs_only([issued]), request.signer)
    return sign_pki_message(envelope, ca_cert, ca_key, attributes)
