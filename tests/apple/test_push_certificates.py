"""Push certificate lifecycle: request, upload in every format, renewal, refusals."""

import base64
import plistlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.db import connection

from apple import push_certificates
from apple.certificate_files import CertificateFileError
from apple.models import PushCertificate
from apple.push_identity import current_push_identity
from tests.apple import certs

URL = "/mobile-security/settings/"


def upload(client, data: bytes, name="cert.pem", **fields):
    from django.core.files.uploadedfile import SimpleUploadedFile

    files = {"certificate": SimpleUploadedFile(name, data)}
    if "private_key" in fields:
        files["private_key"] = SimpleUploadedFile("key.pem", fields.pop("private_key"))
    return client.post(URL + "push/upload/", {**fields, **files})


def request_key(tenant):
    """The pending key of the portal's latest request (what Apple's answer must match)."""
    from cryptography.hazmat.primitives import serialization

    row = PushCertificate.objects.get(tenant=tenant)
    return serialization.load_pem_private_key(row.pending_private_key_pem.encode(), None)


def test_request_file_is_a_vendor_signed_csr(admin_client, tenant):
    response = admin_client.post(URL + "push/request/", {"apple_id": "it@contoso.example"})
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    request = plistlib.loads(base64.b64decode(response.content))
    assert set(request) == {"PushCertRequestCSR", "PushCertCertificateChain", "PushCertSignature"}
    csr_der = base64.b64decode(request["PushCertRequestCSR"])
    csr = x509.load_der_x509_csr(csr_der)
    assert csr.is_signature_valid
    vendor = x509.load_pem_x509_certificates(request["PushCertCertificateChain"].encode())[0]
    vendor.public_key().verify(
        base64.b64decode(request["PushCertSignature"]), csr_der, padding.PKCS1v15(), hashes.SHA256()
    )
    assert csr.public_key().public_numbers() == request_key(tenant).public_key().public_numbers()
    # The pending key is encrypted at rest.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pending_private_key_pem FROM apple_pushcertificate")
        assert b"PRIVATE KEY" not in str(cursor.fetchone()[0]).encode()


def test_apples_answer_is_matched_to_the_pending_request(admin_client, tenant):
    admin_client.post(URL + "push/request/", {"apple_id": "it@contoso.example"})
    cert = certs.push_certificate(request_key(tenant).public_key())
    response = upload(admin_client, certs.pem(cert))
    assert response.status_code == 302
    row = PushCertificate.objects.get(tenant=tenant)
    assert row.topic.startswith("com.apple.mgmt.External.")
    assert row.apple_id == "it@contoso.example"
    assert row.serial == format(cert.serial_number, "x")
    assert not row.pending_private_key_pem
    identity = current_push_identity(tenant)
    assert identity.topic == row.topic and not identity.is_demo
    page = admin_client.get(URL).content.decode()
    assert row.topic in page and "it@contoso.example" in page and "days left" in page


def test_der_cer_file(admin_client, tenant):
    admin_client.post(URL + "push/request/", {"apple_id": "it@contoso.example"})
    cert = certs.push_certificate(request_key(tenant).public_key())
    assert upload(admin_client, certs.der(cert), "MDM_Certificate.cer").status_code == 302


def test_p12_with_password_and_wrong_password(admin_client, tenant):
    key = certs.new_key()
    bundle = certs.p12(certs.push_certificate(key.public_key()), key, "s3cret")
    response = upload(admin_client, bundle, "push.p12", password="wrong")
    assert response.status_code == 400 and "Wrong password" in response.content.decode()
    response = upload(admin_client, bundle, "push.p12")
    assert "protected" in response.content.decode()
    assert not PushCertificate.objects.exists()
    assert upload(admin_client, bundle, "push.p12", password="s3cret").status_code == 302


def test_pem_pair_with_encrypted_key(admin_client, tenant):
    key = certs.new_key()
    cert = certs.pem(certs.push_certificate(key.public_key()))
    encrypted = certs.key_pem(key, "pw")
    response = upload(admin_client, cert, private_key=encrypted, password="nope")
    assert "Wrong password" in response.content.decode()
    response = upload(admin_client, cert, private_key=encrypted)
    assert "encrypted" in response.content.decode()
    assert upload(admin_client, cert, private_key=encrypted, password="pw").status_code == 302


@pytest.mark.parametrize(
    "case,message",
    [
        ("mismatch", "does not match"),
        ("not-mdm", "not an MDM push certificate"),
        ("expired", "expired"),
        ("garbage", "not a certificate file"),
        ("no-key", "does not match"),  # tried against the stored key, which is not its key
    ],
)
def test_bad_files_are_form_errors_and_keep_the_stored_certificate(
    admin_client, tenant, case, message
):
    key = certs.new_key()
    good = certs.push_certificate(key.public_key())
    upload(admin_client, certs.pem(good), private_key=certs.key_pem(key))
    before = PushCertificate.objects.get(tenant=tenant)
    other = certs.new_key()
    data, extra = {
        "mismatch": (
            certs.pem(certs.push_certificate(other.public_key(), before.topic)),
            {"private_key": certs.key_pem(key)},
        ),
        "not-mdm": (
            certs.pem(certs.push_certificate(other.public_key(), mdm=False)),
            {"private_key": certs.key_pem(other)},
        ),
        "expired": (
            certs.pem(certs.push_certificate(other.public_key(), expired=True)),
            {"private_key": certs.key_pem(other)},
        ),
        "garbage": (b"this is a text file, not a certificate", {}),
        "no-key": (certs.pem(certs.push_certificate(other.public_key(), before.topic)), {}),
    }[case]
    response = upload(admin_client, data, **extra)
    assert response.status_code == 400
    assert message in response.content.decode()
    after = PushCertificate.objects.get(tenant=tenant)
    assert (after.certificate_pem, after.private_key_pem, after.topic) == (
        before.certificate_pem,
        before.private_key_pem,
        before.topic,
    )


def test_renewal_keeps_the_topic_and_is_picked_up_without_restart(admin_client, tenant):
    key = certs.new_key()
    first = certs.push_certificate(key.public_key(), days=20)
    upload(admin_client, certs.pem(first), private_key=certs.key_pem(key))
    topic = PushCertificate.objects.get().topic
    before = current_push_identity(tenant)
    # Renewal: a new request, Apple renews with the same topic.
    admin_client.post(URL + "push/request/", {"apple_id": "it@contoso.example"})
    renewed = certs.push_certificate(request_key(tenant).public_key(), topic, days=365)
    assert upload(admin_client, certs.pem(renewed)).status_code == 302
    after = current_push_identity(tenant)
    assert after.topic == topic and after.fingerprint != before.fingerprint
    assert after.not_after > before.not_after


def test_other_topic_needs_confirmation(admin_client, tenant):
    key = certs.new_key()
    upload(
        admin_client,
        certs.pem(certs.push_certificate(key.public_key())),
        private_key=certs.key_pem(key),
    )
    old = PushCertificate.objects.get().topic
    other = certs.new_key()
    new_cert = certs.pem(certs.push_certificate(other.public_key()))
    response = upload(admin_client, new_cert, private_key=certs.key_pem(other))
    assert response.status_code == 400
    page = response.content.decode()
    assert "enroll again" in page and 'name="confirm_new_topic"' in page
    assert PushCertificate.objects.get().topic == old
    response = upload(
        admin_client, new_cert, private_key=certs.key_pem(other), confirm_new_topic="on"
    )
    assert response.status_code == 302 and PushCertificate.objects.get().topic != old


def test_certificate_without_any_key_asks_for_one(admin_client, tenant):
    cert = certs.pem(certs.push_certificate(certs.new_key().public_key()))
    response = upload(admin_client, cert)
    assert response.status_code == 400 and "No private key" in response.content.decode()


def test_readonly_cannot_upload(readonly_client, tenant):
    assert readonly_client.post(URL + "push/request/", {"apple_id": "a@b.c"}).status_code == 403


def test_service_refuses_a_file_without_certificate(tenant):
    with pytest.raises(CertificateFileError):
        push_certificates.install(tenant, b"")


def test_api_status_and_upload(api_client, tenant):
    assert api_client.get("/api/push-certificate/").json()["status"] == "missing"
    key = certs.new_key()
    bundle = certs.p12(certs.push_certificate(key.public_key()), key, "pw")
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = api_client.post(
        "/api/push-certificate/",
        {"certificate": SimpleUploadedFile("p.p12", bundle), "password": "x"},
        format="multipart",
    )
    assert bad.status_code == 400 and "Wrong password" in bad.json()["certificate"][0]
    good = api_client.post(
        "/api/push-certificate/",
        {"certificate": SimpleUploadedFile("p.p12", bundle), "password": "pw"},
        format="multipart",
    )
    assert good.status_code == 201
    status = api_client.get("/api/push-certificate/").json()
    assert status["status"] == "valid" and status["topic"].startswith("com.apple.mgmt.")


def test_request_signed_with_the_configured_vendor_certificate(
    admin_client, tenant, settings, tmp_path
):
    """With MDM_VENDOR_CERT/KEY set, the request carries that chain and its signature."""
    from apple import vendor

    vendor_key = certs.new_key()
    vendor_cert = certs.push_certificate(vendor_key.public_key(), mdm=False)
    intermediate = certs.push_certificate(certs.new_key().public_key(), mdm=False)
    (tmp_path / "vendor.pem").write_bytes(certs.pem(vendor_cert) + certs.pem(intermediate))
    (tmp_path / "vendor.key").write_bytes(certs.key_pem(vendor_key))
    settings.MDM_VENDOR_CERT = str(tmp_path / "vendor.pem")
    settings.MDM_VENDOR_KEY = str(tmp_path / "vendor.key")
    vendor._load.cache_clear()
    response = admin_client.post(URL + "push/request/", {"apple_id": "it@contoso.example"})
    request = plistlib.loads(base64.b64decode(response.content))
    chain = x509.load_pem_x509_certificates(request["PushCertCertificateChain"].encode())
    assert chain == [vendor_cert, intermediate]
    vendor_cert.public_key().verify(
        base64.b64decode(request["PushCertSignature"]),
        base64.b64decode(request["PushCertRequestCSR"]),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    assert not vendor.vendor_identity().is_stand_in


def test_size_limits_live_in_the_services(tenant):
    from apple import certificate_files
    from apple.vpp import token_file

    too_big = b"x" * (certificate_files.MAX_FILE + 1)
    with pytest.raises(certificate_files.CertificateFileError):
        certificate_files.read(too_big)
    with pytest.raises(certificate_files.CertificateFileError):
        certificate_files.load_key(too_big)
    with pytest.raises(token_file.TokenFileError, match="too large"):
        token_file.parse(b"x" * (token_file.MAX_FILE + 1))


@pytest.mark.django_db
def test_the_push_identity_is_the_installed_unexpired_certificate_only():
    import datetime as dt

    from django.utils import timezone

    from tests import factories

    tenant = factories.tenant()
    assert current_push_identity(tenant) is None  # none at all
    cert = factories.push_certificate(tenant)
    identity = current_push_identity(tenant)
    assert (identity.tenant_id, identity.topic, identity.not_after) == (
        tenant.pk,
        cert.topic,
        cert.not_after,
    )
    assert identity.certificate_pem == cert.certificate_pem.encode() and identity.is_demo
    assert b"PRIVATE KEY" in identity.private_key_pem
    PushCertificate.objects.filter(pk=cert.pk).update(
        not_after=timezone.now() - dt.timedelta(minutes=1)
    )
    assert current_push_identity(tenant) is None  # expired
    PushCertificate.objects.filter(pk=cert.pk).update(
        certificate_pem="", not_after=timezone.now() + dt.timedelta(days=30)
    )
    assert current_push_identity(tenant.pk) is None  # only a request pending
