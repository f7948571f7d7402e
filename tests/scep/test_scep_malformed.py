"""Malformed pkiMessages: a failure CertRep (RFC 8894) when the message is signed and can be
answered, a 400 otherwise; never a 500, never a row written."""

import base64
import os

import pytest
from asn1crypto import cms as asn1_cms
from asn1crypto import core
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from hypothesis import given
from hypothesis import strategies as st

from apple import cms
from enrollment.scep import client as scep_client
from enrollment.scep import protocol, services
from enrollment.scep.models import IssuedCertificate
from tests.db_snapshot import table_counts

CN = "ue-11111111-2222-3333-4444-555555555555"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
MESSAGE_TYPE_OID = "2.16.840.1.113733.1.9.2"
TRANSACTION_ID_OID = "2.16.840.1.113733.1.9.7"


def url(tenant):
    return f"/scep/{tenant.number}"


def pkcs_req(tenant, csr_der, *, attrs=None, key=KEY):
    envelope = protocol.encrypt_envelope(csr_der, services.ca_certificate(tenant))
    signer = scep_client._self_signed(key, scep_client.build_csr(key, CN, "x").subject)
    attributes = attrs or {
        "message_type": "19",
        "transaction_id": "t-1",
        "sender_nonce": os.urandom(16),
    }
    return protocol.sign_pki_message(envelope, signer, key, attributes)


def tlv(tag, body):
    n = len(body)
    if n < 128:
        length = bytes([n])
    elif n < 256:
        length = bytes([0x81, n])
    else:
        length = bytes([0x82, n >> 8, n & 0xFF])
    return bytes([tag]) + length + body


def resign_with_attribute(der, oid, value_der, key=KEY):
    """Replace (or add) one signed attribute by raw DER and sign again: a correctly signed
    message whose SCEP fields are wrong."""
    info = asn1_cms.ContentInfo.load(der)
    signer_info = info["content"]["signer_infos"][0]
    kept = [a for a in signer_info["signed_attrs"] if a["type"].dotted != oid]
    raw = tlv(0x30, core.ObjectIdentifier(oid).dump() + value_der)
    # Built as bytes: asn1crypto would refuse to re-encode the mistyped value.
    signed = tlv(0x31, b"".join(a.dump() for a in kept) + raw)
    new_signer_info = asn1_cms.SignerInfo(
        {
            "version": "v1",
            "sid": signer_info["sid"],
            "digest_algorithm": signer_info["digest_algorithm"],
            "signed_attrs": asn1_cms.CMSAttributes.load(signed),
            "signature_algorithm": signer_info["signature_algorithm"],
            "signature": key.sign(signed, padding.PKCS1v15(), hashes.SHA256()),
        }
    )
    signed_data = info["content"]
    rebuilt = asn1_cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": signed_data["digest_algorithms"],
            "encap_content_info": signed_data["encap_content_info"],
            "certificates": signed_data["certificates"],
            "signer_infos": [new_signer_info],
        }
    )
    return asn1_cms.ContentInfo({"content_type": "signed_data", "content": rebuilt}).dump()


def good_csr(tenant):
    challenge = services.issue_challenge(tenant, subject_cn=CN)
    return scep_client.build_csr(KEY, CN, challenge).public_bytes(serialization.Encoding.DER)


def cert_rep(response):
    """The reply's SCEP fields, read even when it echoes an empty transactionID."""
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/x-pki-message"
    try:
        return protocol.parse_pki_message(response.content)
    except protocol.MalformedPkiMessage:
        info = asn1_cms.ContentInfo.load(response.content)
        attrs = cms.raw_signed_attributes(info["content"]["signer_infos"][0])
        return protocol.PkiMessage(
            message_type=protocol._attribute(attrs, "message_type", str),
            transaction_id="",
            sender_nonce=b"",
            signer=None,
            envelope=b"",
            pki_status=protocol._attribute(attrs, "pki_status", str),
            fail_info=protocol._attribute(attrs, "fail_info", str),
        )


EMPTY_SET = b"\x31\x00"
INTEGER_IN_SET = b"\x31\x03\x02\x01\x13"
OCTETS_IN_SET = b"\x31\x03\x04\x01\x41"


@pytest.mark.parametrize(
    ("oid", "value"),
    [
        (MESSAGE_TYPE_OID, EMPTY_SET),
        (MESSAGE_TYPE_OID, INTEGER_IN_SET),
        (TRANSACTION_ID_OID, EMPTY_SET),
        (TRANSACTION_ID_OID, OCTETS_IN_SET),
    ],
)
def test_empty_or_mistyped_attribute_gets_failure_certrep(client, tenant, oid, value):
    der = resign_with_attribute(pkcs_req(tenant, good_csr(tenant)), oid, value)
    before = table_counts()
    response = client.post(
        url(tenant),
        der,
        content_type="application/x-pki-message",
        QUERY_STRING="operation=PKIOperation",
    )
    reply = cert_rep(response)
    assert reply.message_type == protocol.CERT_REP
    assert reply.pki_status == protocol.STATUS_FAILURE
    assert reply.fail_info == protocol.FAIL_BAD_REQUEST
    assert table_counts() == before


@pytest.mark.parametrize(
    "csr",
    [b"", b"\x30\x00", b"not a csr", b"\x30\x82\x01\x00" + b"\x00" * 256],
)
def test_corrupt_csr_gets_failure_certrep(client, tenant, csr):
    response = client.post(
        f"{url(tenant)}?operation=PKIOperation",
        pkcs_req(tenant, csr),
        content_type="application/x-pki-message",
    )
    reply = cert_rep(response)
    assert (reply.pki_status, reply.fail_info) == (
        protocol.STATUS_FAILURE,
        protocol.FAIL_BAD_REQUEST,
    )
    assert not IssuedCertificate.objects.exists()


def test_csr_with_bad_signature_is_bad_message_check(client, tenant):
    csr = bytearray(good_csr(tenant))
    csr[-3] ^= 0xFF
    reply = cert_rep(
        client.post(
            f"{url(tenant)}?operation=PKIOperation",
            pkcs_req(tenant, bytes(csr)),
            content_type="application/x-pki-message",
        )
    )
    assert reply.fail_info in (protocol.FAIL_BAD_MESSAGE_CHECK, protocol.FAIL_BAD_REQUEST)
    assert not IssuedCertificate.objects.exists()


def test_ec_signer_cannot_receive_an_answer(client, tenant):
    ec_key = ec.generate_private_key(ec.SECP256R1())
    csr = scep_client.build_csr(ec_key, CN, services.issue_challenge(tenant, subject_cn=CN))
    envelope = protocol.encrypt_envelope(
        csr.public_bytes(serialization.Encoding.DER), services.ca_certificate(tenant)
    )
    signer = scep_client._self_signed(ec_key, csr.subject)
    der = cms.sign(envelope, signer, ec_key)
    response = client.post(
        f"{url(tenant)}?operation=PKIOperation", der, content_type="application/x-pki-message"
    )
    assert response.status_code < 500
    assert not IssuedCertificate.objects.exists()


@pytest.fixture
def valid_message(tenant):
    return pkcs_req(tenant, good_csr(tenant))


@given(
    position=st.integers(min_value=0, max_value=4000),
    value=st.integers(min_value=0, max_value=255),
    cut=st.booleans(),
    by_get=st.booleans(),
)
def test_mutated_pki_operation_never_500_never_writes(
    client, tenant, valid_message, position, value, cut, by_get
):
    position %= len(valid_message)
    der = (
        valid_message[:position]
        if cut
        else valid_message[:position] + bytes([value]) + valid_message[position + 1 :]
    )
    before = table_counts()
    if by_get:
        response = client.get(
            url(tenant), {"operation": "PKIOperation", "message": base64.b64encode(der).decode()}
        )
    else:
        response = client.post(
            f"{url(tenant)}?operation=PKIOperation", der, content_type="application/x-pki-message"
        )
    assert response.status_code < 500
    if response.status_code == 200:
        reply = cert_rep(response)
        if reply.pki_status == protocol.STATUS_SUCCESS:
            return  # a mutation of an unsigned/ignored byte may still be a valid request
    assert table_counts() == before


@given(
    operation=st.sampled_from(["PKIOperation", "GetCACaps", "GetCACert", "", "x"]),
    message=st.text(max_size=200),
    body=st.binary(max_size=300),
)
def test_random_scep_requests_never_500(client, tenant, operation, message, body):
    services.ca_certificate(tenant)  # the CA is made on first use, outside the comparison
    before = table_counts()
    get = client.get(url(tenant), {"operation": operation, "message": message})
    post = client.post(
        f"{url(tenant)}?operation={operation}", body, content_type="application/x-pki-message"
    )
    assert get.status_code < 500 and post.status_code < 500
    assert table_counts() == before
