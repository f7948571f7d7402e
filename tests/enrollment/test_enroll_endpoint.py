"""The enrollment POSTs at BaseURL: the 401 challenge, the profile, and what is refused."""

import plistlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from apple import cms, schema
from enrollment import tokens
from enrollment.models import EnrollmentSession

VECTORS = Path(__file__).parents[1] / "fixtures" / "vectors"
BODY = plistlib.dumps({"LANGUAGE": "de-DE", "PRODUCT": "iPhone17,2", "VERSION": "22C161"})
URL = "/enroll/t/123456"


@pytest.fixture(autouse=True)
def _https_base(settings):
    settings.PORTAL_BASE_URL = "https://portal.example.com"


def post(client, body=BODY, token=None, content_type="application/pkcs7-signature"):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.generic("POST", URL, body, content_type=content_type, **headers)


def test_anonymous_post_gets_apple_as_web_challenge_and_stores_nothing(client, address):
    response = post(client)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == (
        'Bearer method="apple-as-web", url="https://portal.example.com/enroll/t/123456/login"'
    )
    assert not EnrollmentSession.objects.exists()


@pytest.mark.parametrize(
    "content_type",
    ["application/pkcs7-signature", "application/x-www-form-urlencoded", "application/xml", ""],
)
def test_any_content_type_is_accepted(client, address, content_type):
    assert post(client, content_type=content_type).status_code == 401


def test_real_signed_iphone_body_is_accepted(client, address, managed_user):
    body = (VECTORS / "oreore-ios-mdm/spec/assets/enroll_body.der").read_bytes()
    assert post(client, body).status_code == 401
    session, raw = tokens.issue(managed_user)
    response = post(client, body, raw)
    assert response.status_code == 200
    session.refresh_from_db()
    assert session.machine_info["signed"] is True
    assert session.machine_info["PRODUCT"]


@pytest.mark.parametrize(
    "body",
    [
        b"\x30\x82garbage",
        b"<plist><dict><key>a</key>",
        b"x" * (300 * 1024),
        b'<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY a "aaaa">]><plist><dict>'
        b"<key>PRODUCT</key><string>&a;</string></dict></plist>",
    ],
    ids=["bad-cms", "bad-plist", "oversized", "entities"],
)
def test_malformed_bodies_are_400(client, address, body):
    assert post(client, body).status_code == 400
    assert not EnrollmentSession.objects.exists()


def test_bearer_gets_signed_profile_that_validates_against_apples_schema(
    client, address, managed_user, ready_tenant
):
    session, raw = tokens.issue(managed_user)
    response = post(client, token=raw)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-apple-aspen-config"
    message = cms.verify(response.content)
    profile = plistlib.loads(message.content)
    assert schema.validate_profile(profile, user_enrollment=True) == []
    scep_payload, mdm = profile["PayloadContent"]
    assert mdm["EnrollmentMode"] == "BYOD"
    assert mdm["AssignedManagedAppleID"] == "alice@contoso.appleid.com"
    assert mdm["ServerURL"] == "https://portal.example.com/mdm/connect"
    assert mdm["CheckInURL"] == "https://portal.example.com/mdm/checkin"
    assert mdm["SignMessage"] is True and mdm["CheckOutWhenRemoved"] is True
    assert "AccessRights" not in mdm and "ManagedAppleID" not in mdm
    assert mdm["IdentityCertificateUUID"] == scep_payload["PayloadUUID"]
    from apple.push_identity import current_push_identity

    assert mdm["Topic"] == current_push_identity(ready_tenant).topic
    content = scep_payload["PayloadContent"]
    assert content["URL"] == "https://portal.example.com/scep/123456"
    assert content["Challenge"]
    assert content["Subject"] == [[["O", "123456"]], [["CN", session.subject_cn]]]
    assert profile["PayloadOrganization"] == "Contoso IT"
    session.refresh_from_db()
    assert session.state == "profile_delivered"
    assert session.machine_info["LANGUAGE"] == "de-DE"


def test_profile_with_trusted_root_certificates_validates(
    client, address, managed_user, ready_tenant, local_tls
):
    from enrollment.models import Profile

    Profile.objects.filter(tenant=ready_tenant).update(
        trusted_certificates=Path(local_tls.ca_path).read_text()
    )
    _, raw = tokens.issue(managed_user)
    profile = plistlib.loads(cms.verify(post(client, token=raw).content).content)
    assert profile["PayloadContent"][0]["PayloadType"] == "com.apple.security.root"
    assert schema.validate_profile(profile, user_enrollment=True) == []


def test_forged_token_is_challenged_again(client, address):
    response = post(client, token="forged-token-value")
    assert response.status_code == 401
    assert "apple-as-web" in response["WWW-Authenticate"]


def test_expired_token_is_challenged_again(client, address, managed_user):
    session, raw = tokens.issue(managed_user)
    session.expires_at = timezone.now() - timedelta(seconds=1)
    session.save()
    assert post(client, token=raw).status_code == 401
    session.refresh_from_db()
    assert session.profile_fetches == 0


def test_token_of_another_tenant_is_refused(client, address, other_tenant):
    from users.models import ManagedUser

    stranger = ManagedUser.objects.create(
        tenant=other_tenant, username="bob", managed_apple_id="bob@fabrikam.appleid.com"
    )
    _, raw = tokens.issue(stranger)
    assert post(client, token=raw).status_code == 401


def test_profile_twice_until_first_checkin_then_refused(client, address, managed_user):
    session, raw = tokens.issue(managed_user)
    assert post(client, token=raw).status_code == 200
    assert post(client, token=raw).status_code == 200
    session.refresh_from_db()
    assert session.profile_fetches == 2
    session.enrollment_id = "BOUND-TO-A-DEVICE"
    session.save()
    assert post(client, token=raw).status_code == 401


def test_the_profile_post_writes_challenge_state_and_audit_in_one_statement(
    client, address, managed_user
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from enrollment.scep.models import ScepChallenge
    from users.models import AuditEvent

    session, raw = tokens.issue(managed_user)
    with CaptureQueriesContext(connection) as captured:
        assert post(client, token=raw).status_code == 200
    session.refresh_from_db()
    assert session.state == EnrollmentSession.State.PROFILE_DELIVERED
    assert ScepChallenge.objects.filter(subject_cn=session.subject_cn, used_at=None).count() == 1
    event = AuditEvent.objects.get(action="enrollment.profile_delivered")
    assert event.object_id == str(session.pk) and event.details["PRODUCT"] == "iPhone17,2"
    if connection.vendor != "postgresql":
        pytest.skip("one statement is PostgreSQL's (SQLite: one transaction)")
    writes = [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].startswith(("SELECT", "SAVEPOINT", "RELEASE SAVEPOINT"))
    ]
    assert len(writes) == 1 and writes[0].startswith("WITH "), writes


def test_user_without_managed_apple_id_gets_no_profile(client, address, managed_user):
    session, raw = tokens.issue(managed_user)
    managed_user.managed_apple_id = ""
    managed_user.save()
    assert post(client, token=raw).status_code == 403


def test_optional_check_of_the_apple_device_signature(
    client, address, settings, tmp_path, local_tls
):
    from cryptography.hazmat.primitives import serialization

    body = (VECTORS / "oreore-ios-mdm/spec/assets/enroll_body.der").read_bytes()
    apple_ca = [
        c
        for c in cms.verify(body).certificates
        if c.subject.rfc4514_string().startswith("CN=Apple iPhone Certification")
    ][0]
    anchors = tmp_path / "apple-device-ca.pem"
    anchors.write_bytes(apple_ca.public_bytes(serialization.Encoding.PEM))
    settings.ENROLLMENT_VERIFY_DEVICE_SIGNATURE = True
    settings.ENROLLMENT_DEVICE_CA_FILE = str(anchors)
    assert post(client, body).status_code == 401  # a genuine iPhone: on to the challenge
    self_signed = cms.sign(BODY, *_throwaway_identity())
    assert post(client, self_signed).status_code == 400
    settings.ENROLLMENT_DEVICE_CA_FILE = str(local_tls.ca_path)
    assert post(client, body).status_code == 400


def _throwaway_identity():
    from cryptography.hazmat.primitives.asymmetric import ec

    from apple import x509util

    key = ec.generate_private_key(ec.SECP256R1())
    return x509util.self_signed(key, x509util.name(cn="not an iPhone"), days=1), key
