"""The SCEP service over real HTTPS: our client (AES, POST and GET) and Debian's scepclient
(the MicroMDM client: single DES, SHA-1) with good, wrong and reused challenges."""

import os
import shutil
import subprocess

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from enrollment.scep import client as scep_client
from enrollment.scep import protocol, services
from enrollment.scep.models import IssuedCertificate, ScepChallenge

pytestmark = pytest.mark.django_db(transaction=True)
CN = "ue-11111111-2222-3333-4444-555555555555"


@pytest.fixture
def scep(live_tls_server, tenant):
    return services.scep_url(tenant), live_tls_server.ca_path


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_caps_and_ca_certificate(scep, tenant):
    url, ca_path = scep
    with httpx.Client(verify=scep_client.tls_verify(ca_path)) as http:
        caps = http.get(url, params={"operation": "GetCACaps"})
        assert caps.headers["content-type"].startswith("text/plain")
        assert {"AES", "POSTPKIOperation", "SHA-256", "SCEPStandard"} <= set(caps.text.split())
        cacert = http.get(url, params={"operation": "GetCACert"})
        assert cacert.headers["content-type"] == "application/x-x509-ca-cert"
        assert x509.load_der_x509_certificate(cacert.content) == services.ca_certificate(tenant)
        assert http.get(url, params={"operation": "Nope"}).status_code == 400
        assert (
            http.post(url, params={"operation": "PKIOperation"}, content=b"junk").status_code == 400
        )


def test_good_challenge_issues_certificate_bound_to_the_session(scep, tenant):
    url, ca_path = scep
    challenge = services.issue_challenge(tenant, subject_cn=CN)
    cert = scep_client.enroll(
        url, challenge, CN, new_key(), verify=ca_path, organization="ignored-by-the-server"
    )
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == CN
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "123456"
    assert services.verify_device_certificate(tenant, cert)
    issued = IssuedCertificate.objects.get()
    assert issued.serial == format(cert.serial_number, "x")
    assert ScepChallenge.objects.get().used_at is not None


@pytest.mark.parametrize("case", ["wrong", "reused", "other-cn", "expired"])
def test_bad_challenges_get_a_failure_reply_and_no_certificate(scep, tenant, case):
    url, ca_path = scep
    challenge = services.issue_challenge(tenant, subject_cn=CN)
    if case == "reused":
        scep_client.enroll(url, challenge, CN, new_key(), verify=ca_path)
    if case == "expired":
        ScepChallenge.objects.update(expires_at="2020-01-01T00:00Z")
    used = "not-the-challenge" if case == "wrong" else challenge
    cn = "ue-someone-else" if case == "other-cn" else CN
    with pytest.raises(scep_client.ScepError, match="badRequest"):
        scep_client.enroll(url, used, cn, new_key(), verify=ca_path)
    assert IssuedCertificate.objects.count() == (1 if case == "reused" else 0)


def _pkcs_req(tenant, key, challenge):
    """A PKCSReq as a device builds it, for the GET and tampering tests."""
    csr = scep_client.build_csr(key, CN, challenge)
    envelope = protocol.encrypt_envelope(
        csr.public_bytes(serialization.Encoding.DER), services.ca_certificate(tenant)
    )
    signer = scep_client._self_signed(key, csr.subject)
    return protocol.sign_pki_message(
        envelope,
        signer,
        key,
        {"message_type": "19", "transaction_id": "t-1", "sender_nonce": os.urandom(16)},
    )


def test_a_good_pki_operation_claims_and_records_in_one_statement(tenant):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    key, challenge = new_key(), services.issue_challenge(tenant, subject_cn=CN)
    message = _pkcs_req(tenant, key, challenge)
    with CaptureQueriesContext(connection) as captured:
        reply = protocol.parse_pki_message(services.handle_pki_operation(tenant, message))
    assert reply.pki_status == protocol.STATUS_SUCCESS
    issued = IssuedCertificate.objects.get()
    assert issued.challenge == ScepChallenge.objects.get(used_at__isnull=False)
    assert issued.transaction_id == "t-1" and issued.issued_at is not None
    if connection.vendor != "postgresql":
        pytest.skip("one statement is PostgreSQL's (SQLite: one transaction)")
    writes = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith("SELECT")]
    assert len(writes) == 1 and writes[0].startswith("WITH claimed AS (UPDATE"), writes


def test_pki_operation_by_get(scep, tenant):
    import base64

    url, ca_path = scep
    key = new_key()
    message = _pkcs_req(tenant, key, services.issue_challenge(tenant, subject_cn=CN))
    with httpx.Client(verify=scep_client.tls_verify(ca_path)) as http:
        response = http.get(
            url, params={"operation": "PKIOperation", "message": base64.b64encode(message).decode()}
        )
    assert response.headers["content-type"] == "application/x-pki-message"
    reply = protocol.parse_pki_message(response.content)
    assert reply.pki_status == protocol.STATUS_SUCCESS and reply.transaction_id == "t-1"
    cert = protocol.read_certs_only(protocol.decrypt_envelope(reply.envelope, key))[0]
    assert services.verify_device_certificate(tenant, cert)


def test_another_tenants_certificate_is_not_ours(tenant, other_tenant, scep):
    url, ca_path = scep
    challenge = services.issue_challenge(other_tenant, subject_cn=CN)
    cert = scep_client.enroll(
        services.scep_url(other_tenant), challenge, CN, new_key(), verify=ca_path
    )
    assert services.verify_device_certificate(other_tenant, cert)
    assert not services.verify_device_certificate(tenant, cert)


def test_tampered_request_signature_is_400(scep, tenant):
    url, ca_path = scep
    message = bytearray(
        _pkcs_req(tenant, new_key(), services.issue_challenge(tenant, subject_cn=CN))
    )
    message[-5] ^= 0xFF  # inside the signature
    with httpx.Client(verify=scep_client.tls_verify(ca_path)) as http:
        response = http.post(url, params={"operation": "PKIOperation"}, content=bytes(message))
    assert response.status_code == 400
    assert not IssuedCertificate.objects.exists()


@pytest.mark.parametrize("cipher", ["aes", "des3"])
def test_envelope_round_trip(tenant, cipher):
    ca = services.ca_certificate(tenant)
    from enrollment.scep.services import _ca

    envelope = protocol.encrypt_envelope(b"secret csr", ca, cipher=cipher)
    assert protocol.decrypt_envelope(envelope, _ca(tenant)[1]) == b"secret csr"


SCEPCLIENT = shutil.which("scepclient")


def _scepclient(url, ca_path, challenge, directory, cn=CN):
    """One scepclient run in its own directory: it keeps its key and CSR next to the
    certificate and would silently reuse a stale ``csr.pem`` from an earlier run."""
    directory.mkdir()
    cert = directory / "cert.pem"
    result = subprocess.run(  # noqa: S603 - a fixed binary with our arguments
        [
            SCEPCLIENT,
            "-server-url",
            url,
            "-challenge",
            challenge,
            "-cn",
            cn,
            "-private-key",
            str(directory / "key.pem"),
            "-certificate",
            str(cert),
        ],
        cwd=directory,
        env={**os.environ, "SSL_CERT_FILE": str(ca_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result, cert


@pytest.mark.skipif(SCEPCLIENT is None, reason="scepclient not installed (apt-get install scep)")
def test_scepclient_good_challenge(scep, tenant, tmp_path):
    url, ca_path = scep
    result, cert_path = _scepclient(
        url, ca_path, services.issue_challenge(tenant, subject_cn=CN), tmp_path / "good"
    )
    assert result.returncode == 0, result.stderr
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert services.verify_device_certificate(tenant, cert)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == CN
    assert IssuedCertificate.objects.count() == 1


@pytest.mark.skipif(SCEPCLIENT is None, reason="scepclient not installed (apt-get install scep)")
@pytest.mark.parametrize("case", ["wrong", "reused"])
def test_scepclient_refused_challenge(scep, tenant, tmp_path, caplog, case):
    url, ca_path = scep
    challenge = services.issue_challenge(tenant, subject_cn=CN)
    if case == "reused":
        first, _ = _scepclient(url, ca_path, challenge, tmp_path / "first")
        assert first.returncode == 0, first.stderr
    used = "wrong-challenge" if case == "wrong" else challenge
    with caplog.at_level("INFO", logger="enrollment.scep"):
        result, cert_path = _scepclient(url, ca_path, used, tmp_path / case)
    assert result.returncode != 0 and not cert_path.exists()
    # The client sees a failure CertRep (badRequest); the server logs why.
    assert "badRequest" in result.stdout + result.stderr, result.stdout + result.stderr
    reason = "unknown challenge" if case == "wrong" else "challenge already used"
    assert reason in caplog.text
    assert IssuedCertificate.objects.count() == (1 if case == "reused" else 0)
