"""A SCEP client (RFC 8894) over httpx: what a device does with the profile's SCEP payload.

Used by the device simulator and the benchmarks. ``enroll`` fetches the CA and its caps, sends
a PKCSReq (AES-256 when advertised, else 3DES; POST when advertised) signed with a self-signed
certificate of the new key, and returns the issued certificate or raises ``ScepError``.
"""

import base64
import hashlib
import os
import ssl

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import AttributeOID, NameOID

from apple import x509util

from . import protocol


class ScepError(Exception):
    def __init__(self, message: str, fail_info: str = ""):
        super().__init__(message)
        self.fail_info = fail_info


_FAIL_NAMES = {
    "0": "badAlg",
    "1": "badMessageCheck",
    "2": "badRequest",
    "3": "badTime",
    "4": "badCertId",
}


def _self_signed(key, subject: x509.Name) -> x509.Certificate:
    """RFC 8894 §2.3: a requester without a certificate signs with a self-signed one."""
    return x509util.self_signed(key, subject, days=1)


def build_csr(key, subject_cn: str, challenge: str, organization: str | None = None):
    names = [x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)]
    if organization:
        names.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(names))
    if challenge:
        builder = builder.add_attribute(AttributeOID.CHALLENGE_PASSWORD, challenge.encode())
    return builder.sign(key, hashes.SHA256())


def tls_verify(verify):
    """httpx wants an SSLContext for a custom CA bundle."""
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return verify


def enroll(
    url: str,
    challenge: str,
    subject_cn: str,
    private_key,
    *,
    verify: str | bool = True,
    organization: str | None = None,
    timeout: float = 30.0,
) -> x509.Certificate:
    with httpx.Client(verify=tls_verify(verify), timeout=timeout) as http:
        caps_response = http.get(url, params={"operation": "GetCACaps"})
        caps = set(caps_response.text.split()) if caps_response.status_code == 200 else set()
        ca_response = http.get(url, params={"operation": "GetCACert"})
        if ca_response.status_code != 200:
            raise ScepError(f"GetCACert: HTTP {ca_response.status_code}")
        if ca_response.headers.get("content-type", "").startswith("application/x-x509-ca-ra-cert"):
            ca = protocol.read_certs_only(ca_response.content)[0]
        else:
            ca = x509.load_der_x509_certificate(ca_response.content)

        csr = build_csr(private_key, subject_cn, challenge, organization)
        signer = _self_signed(private_key, csr.subject)
        envelope = protocol.encrypt_envelope(
            csr.public_bytes(serialization.Encoding.DER),
            ca,
            cipher="aes" if "AES" in caps else "des3",
        )
        transaction_id = hashlib.sha256(
            private_key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        ).hexdigest()
        nonce = os.urandom(16)
        message = protocol.sign_pki_message(
            envelope,
            signer,
            private_key,
            {
                "message_type": protocol.PKCS_REQ,
                "transaction_id": transaction_id,
                "sender_nonce": nonce,
            },
            digest="sha256" if "SHA-256" in caps else "sha1",
        )
        if "POSTPKIOperation" in caps:
            response = http.post(
                url,
                params={"operation": "PKIOperation"},
                content=message,
                headers={"Content-Type": "application/x-pki-message"},
            )
        else:
            response = http.get(
                url,
                params={"operation": "PKIOperation", "message": base64.b64encode(message).decode()},
            )
    if response.status_code != 200:
        raise ScepError(f"PKIOperation: HTTP {response.status_code} {response.text[:200]}")
    try:
        reply = protocol.parse_pki_message(response.content)
    except protocol.ScepProtocolError as exc:
        raise ScepError(f"unreadable CertRep: {exc}") from exc
    if reply.signer != ca:
        raise ScepError("the CertRep is not signed by the CA")
    if reply.transaction_id != transaction_id:
        raise ScepError("the CertRep answers another transaction")
    if reply.pki_status != protocol.STATUS_SUCCESS:
        name = _FAIL_NAMES.get(reply.fail_info, reply.fail_info)
        raise ScepError(f"SCEP failure: {name}", reply.fail_info)
    certificates = protocol.read_certs_only(protocol.decrypt_envelope(reply.envelope, private_key))
    ours = private_key.public_key().public_numbers()
    for cert in certificates:
        if cert.public_key().public_numbers() == ours:
            return cert
    raise ScepError("the CertRep holds no certificate for our key")
