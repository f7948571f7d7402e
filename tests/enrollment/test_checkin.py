"""Check-in and command endpoints over real HTTPS, driven by the device simulator.

Every refused request must leave no device row and change nothing.
"""

import base64
import plistlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from apple import cms, x509util
from enrollment import terms
from enrollment.models import EnrollmentSession
from mdm.models import Device, DeviceEvent

pytestmark = pytest.mark.django_db(transaction=True)

FLEET = (
    Path(__file__).parents[1]
    / "fixtures/vectors/fleet/docs/Contributing/product-groups/mdm"
    / "apple-account-driven-user-enrollment.extracted"
)
NANOMDM = Path(__file__).parents[1] / "fixtures/vectors/nanomdm/mdm/testdata"
CHECKIN = "application/x-apple-aspen-mdm-checkin"


@pytest.fixture
def ready_device(make_device):
    """A device that has its identity certificate but has not checked in yet."""
    device = make_device()
    device.discover()
    device.post_machine_info(expect_challenge=True)
    device.web_login()
    device.fetch_profile()
    device.scep_enroll()
    return device


def self_signed(cn="ue-00000000-0000-0000-0000-000000000000", org="123456"):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return x509util.self_signed(key, x509util.name(cn=cn, o=org), days=1), key


def test_full_enrollment_creates_an_enrolled_device(enrolled, managed_user):
    device = Device.objects.get()
    assert device.enrollment_id == enrolled.enrollment_id
    assert device.status == Device.Status.ENROLLED
    assert device.user == managed_user
    assert device.managed_apple_id == "alice@contoso.appleid.com"
    assert bytes(device.push_token) == enrolled.push_token
    assert device.push_magic == enrolled.push_magic
    assert device.product_name == "iPhone17,2" and device.os_version == "18.2.1"
    assert device.identity_not_after is not None and device.last_seen_at is not None
    kinds = list(DeviceEvent.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds == ["authenticate", "token_update"]
    raw = DeviceEvent.objects.get(kind="authenticate").raw
    assert plistlib.loads(bytes(raw))["MessageType"] == "Authenticate"  # stored as received


def test_terms_mail_is_sent_after_enrollment(enrolled, mailoutbox):
    assert len(mailoutbox) == 1
    assert "/terms/" in mailoutbox[0].body


def test_checkin_without_signature_is_401(ready_device):
    response = ready_device.checkin(ready_device.authenticate_message(), sign_with=(None, None))
    assert response.status_code == 401
    assert not Device.objects.exists()


def test_forged_signature_is_403(ready_device):
    message = plistlib.dumps(ready_device.authenticate_message())
    signature = cms.sign(
        b"some other body", ready_device.identity, ready_device.identity_key, detached=True
    )
    url = ready_device.mdm_payload["CheckInURL"]
    response = ready_device.http.put(
        url,
        content=message,
        headers={
            "Mdm-Signature": base64.b64encode(signature).decode(),
            "Authorization": f"Bearer {ready_device.access_token}",
            "Content-Type": "application/x-apple-aspen-mdm-checkin",
        },
    )
    assert response.status_code == 403
    assert not Device.objects.exists()


def test_self_made_certificate_naming_the_session_is_403(ready_device):
    session = EnrollmentSession.objects.get()
    forged = self_signed(cn=session.subject_cn)
    response = ready_device.checkin(ready_device.authenticate_message(), sign_with=forged)
    assert response.status_code == 403
    assert not Device.objects.exists()


def test_certificate_from_another_tenants_ca_is_403(ready_device, other_tenant):
    from enrollment.scep import services as scep

    ca_cert = scep.ca_certificate(other_tenant)
    assert ca_cert is not None
    # A genuine identity of the other tenant, issued through its SCEP service.
    from enrollment.scep import client as scep_client

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    session = EnrollmentSession.objects.get()
    challenge = scep.issue_challenge(other_tenant, subject_cn=session.subject_cn)
    foreign = scep_client.enroll(
        scep.scep_url(other_tenant),
        challenge,
        session.subject_cn,
        key,
        verify=ready_device.verify,
        organization=str(other_tenant.number),
    )
    response = ready_device.checkin(ready_device.authenticate_message(), sign_with=(foreign, key))
    assert response.status_code == 403
    assert not Device.objects.exists()


def test_missing_or_wrong_bearer_token(ready_device):
    assert ready_device.checkin(ready_device.authenticate_message(), token=None).status_code == 401
    assert (
        ready_device.checkin(ready_device.authenticate_message(), token="forged").status_code == 403
    )
    assert not Device.objects.exists()


def test_replayed_authenticate_with_another_certificate_is_refused(ready_device, make_device):
    ready_device.authenticate()
    other = make_device()
    other.discover()
    other.post_machine_info(expect_challenge=True)
    other.web_login()
    other.fetch_profile()
    other.scep_enroll()
    other.enrollment_id = ready_device.enrollment_id  # claims the first device's enrollment
    response = other.checkin(other.authenticate_message())
    assert response.status_code == 403
    device = Device.objects.get()
    assert device.session.public_id != EnrollmentSession.objects.order_by("-pk").first().public_id


def test_token_update_before_authenticate_is_refused(ready_device):
    with pytest.raises(Exception, match="token_update: HTTP 403"):
        ready_device.token_update()


@pytest.mark.parametrize(
    "body,status",
    [
        (b"not a plist", 400),
        (
            b'<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<plist><dict><key>MessageType</key><string>&x;</string></dict></plist>",
            400,
        ),
        (b"<plist>" + b"<string>a</string>" * 200_000 + b"</plist>", 413),
    ],
    ids=["garbage", "external-entity", "oversized"],
)
def test_malformed_checkins(ready_device, body, status):
    response = ready_device.put_raw(ready_device.mdm_payload["CheckInURL"], body, CHECKIN)
    assert response.status_code == status
    assert not Device.objects.exists()


def test_binary_plist_checkin_is_accepted(ready_device):
    body = plistlib.dumps(ready_device.authenticate_message(), fmt=plistlib.FMT_BINARY)
    response = ready_device.put_raw(ready_device.mdm_payload["CheckInURL"], body, CHECKIN)
    assert response.status_code == 200
    assert Device.objects.count() == 1


def test_unknown_message_type_is_400(enrolled):
    response = enrolled.checkin({"MessageType": "Gossip", "EnrollmentID": enrolled.enrollment_id})
    assert response.status_code == 400


def test_get_token_is_refused_because_not_advertised(enrolled):
    response = enrolled.checkin(
        {
            "MessageType": "GetToken",
            "EnrollmentID": enrolled.enrollment_id,
            "TokenServiceType": "com.apple.maid",
        }
    )
    assert response.status_code == 400


def test_declarative_management_endpoints(enrolled):
    def ddm(endpoint):
        return enrolled.checkin(
            {
                "MessageType": "DeclarativeManagement",
                "Endpoint": endpoint,
                "EnrollmentID": enrolled.enrollment_id,
            }
        )

    tokens = ddm("tokens")
    assert tokens.status_code == 200
    token = tokens.json()["SyncTokens"]["DeclarationsToken"]
    items = ddm("declaration-items").json()
    assert items["DeclarationsToken"] == token
    assert items["Declarations"]["Configurations"] == []
    assert ddm("status").status_code == 200
    assert ddm("declaration/configuration/x").status_code == 404


def test_check_out_marks_the_device_unenrolled_and_ends_the_token(enrolled):
    enrolled.check_out()
    device = Device.objects.get()
    assert device.status == Device.Status.UNENROLLED and device.unenrolled_at
    assert not device.has_push_token
    assert EnrollmentSession.objects.get().state == EnrollmentSession.State.ENDED
    # The ended enrollment cannot connect any more.
    response = enrolled.signed_put(
        enrolled.mdm_payload["ServerURL"],
        {"Status": "Idle", "EnrollmentID": enrolled.enrollment_id},
        "application/x-apple-aspen-mdm",
    )
    assert response.status_code in (401, 403)


def test_connect_records_last_seen_and_answers_idle(enrolled):
    before = Device.objects.get().last_seen_at
    # Enrollment already answered the first inventory; nothing else is due now.
    answered = len(enrolled.commands_answered)
    assert enrolled.connect()[answered:] == []
    assert Device.objects.get().last_seen_at >= before


def test_real_captured_adue_messages_are_handled(ready_device):
    """Fleet's capture of a real iPhone (iOS 18.2.1), sent byte for byte, signed by our identity."""
    for name, url_key in [
        ("01-Authenticate.ADUE.iPhone12,1.iOS18.2.1.plist", "CheckInURL"),
        ("02-TokenUpdate.ADUE.plist", "CheckInURL"),
        ("03-CommandReport.Idle.ADUE.plist", "ServerURL"),
    ]:
        body = (FLEET / name).read_bytes()
        response = ready_device.put_raw(ready_device.mdm_payload[url_key], body, CHECKIN)
        assert response.status_code == 200, (name, response.text)
    captured = plistlib.loads((FLEET / "02-TokenUpdate.ADUE.plist").read_bytes())
    device = Device.objects.get()
    assert device.enrollment_id == captured["EnrollmentID"]
    assert device.status == Device.Status.ENROLLED
    assert bytes(device.push_token) == captured["Token"]
    assert device.product_name == "iPhone12,1" and device.os_version == "18.2.1"


@pytest.mark.parametrize("name", ["Authenticate.1.plist", "TokenUpdate.1.plist"])
def test_device_enrollment_vectors_are_refused_with_the_right_status(ready_device, name):
    """NanoMDM's captures are device enrollments (UDID, no EnrollmentID): not ours, refused."""
    body = (NANOMDM / name).read_bytes()
    response = ready_device.put_raw(ready_device.mdm_payload["CheckInURL"], body, CHECKIN)
    assert response.status_code in (400, 403)
    assert not Device.objects.exists()


def test_reenrollment_takes_over_the_former_tile(make_device, ready_tenant):
    from users.models import Tag

    first = make_device().enroll()
    device = Device.objects.get()
    device.tags.add(Tag.objects.create(tenant=ready_tenant, name="sales"))
    first.check_out()
    ready_tenant.apple_reenrollment_enabled = True
    ready_tenant.save()
    second = make_device().enroll()
    assert Device.objects.count() == 1
    device.refresh_from_db()
    assert device.enrollment_id == second.enrollment_id
    assert device.status == Device.Status.ENROLLED
    assert [t.name for t in device.tags.all()] == ["sales"]
    assert device.events.count() >= 4  # history kept


def test_without_reenrollment_a_new_tile_is_created(make_device):
    make_device().enroll().check_out()
    make_device().enroll()
    assert Device.objects.count() == 2


def test_client_certificate_forwarded_by_the_tls_proxy(ready_device, settings):
    from urllib.parse import quote

    from cryptography.hazmat.primitives import serialization

    settings.MDM_CLIENT_CERT_HEADER = "X-SSL-Client-Cert"
    pem = ready_device.identity.public_bytes(serialization.Encoding.PEM).decode()
    body = plistlib.dumps(ready_device.authenticate_message())
    headers = {
        "Authorization": f"Bearer {ready_device.access_token}",
        "Content-Type": "application/x-apple-aspen-mdm-checkin",
    }
    url = ready_device.mdm_payload["CheckInURL"]
    assert ready_device.http.put(url, content=body, headers=headers).status_code == 401
    forged = quote(
        self_signed(cn=EnrollmentSession.objects.get().subject_cn)[0]
        .public_bytes(serialization.Encoding.PEM)
        .decode()
    )
    assert (
        ready_device.http.put(
            url, content=body, headers={**headers, "X-SSL-Client-Cert": forged}
        ).status_code
        == 403
    )
    assert not Device.objects.exists()
    response = ready_device.http.put(
        url, content=body, headers={**headers, "X-SSL-Client-Cert": quote(pem)}
    )
    assert response.status_code == 200
    assert Device.objects.get().enrollment_id == ready_device.enrollment_id


@pytest.mark.parametrize("accepted", [False, True])
def test_authenticate_records_whether_the_session_accepted_the_terms(ready_device, accepted):
    # The session is read with one precompiled lookup (mdm.device_auth); the terms flag and the
    # user come from the same row.
    session = EnrollmentSession.objects.get()
    if accepted:
        terms.accept(session, terms.current_terms(session.tenant))
    assert ready_device.authenticate().status_code == 200
    device = Device.objects.get()
    assert device.terms_accepted is accepted
    assert device.user_id == session.user_id and device.session_id == session.pk


@pytest.fixture
def sent_statements(monkeypatch):
    """Every statement any thread sends (the live server's too), BEGIN and COMMIT included."""
    import contextlib

    from django.db.backends import utils
    from django.db.backends.base import base

    sent = []
    execute, transaction_step = utils.CursorWrapper.execute, base.debug_transaction

    def counted_execute(self, sql, params=None):
        sent.append(sql)
        return execute(self, sql, params)

    @contextlib.contextmanager
    def counted_step(connection, sql):
        sent.append(sql)
        with transaction_step(connection, sql):
            yield

    monkeypatch.setattr(utils.CursorWrapper, "execute", counted_execute)
    monkeypatch.setattr(base, "debug_transaction", counted_step)
    return sent


def test_round_trips_per_check_in_message(ready_device, sent_statements):
    from django.db import connection

    assert ready_device.authenticate().status_code == 200
    authenticate = list(sent_statements)
    sent_statements.clear()
    assert ready_device.token_update().status_code == 200
    token_update = list(sent_statements)
    if connection.vendor != "postgresql":
        pytest.skip("one statement per message is PostgreSQL's (SQLite: one transaction)")
    # Authenticate: the identity CA (the first request of this server thread), the session,
    # whether the EnrollmentID is known, then device, session binding and event in one
    # statement. TokenUpdate: the device, then one statement. No BEGIN/COMMIT round trips.
    assert len(authenticate) <= 4 and authenticate[-1].startswith("WITH "), authenticate
    own = token_update[:2]  # then the eager tasks (push, mail): workers' work in production
    assert own[1].startswith("WITH ") and "BEGIN" not in authenticate + own, token_update
