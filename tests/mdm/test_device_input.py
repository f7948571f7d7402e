"""Check-in and connect against any input, through the HTTP endpoints: never a 500, and a
refused request writes nothing. The signature over the raw bytes is checked before parsing."""

import base64
import plistlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apple import cms
from mdm.models import Command, Device, DeviceApp, DeviceEvent, DeviceProfile
from tests import factories

pytestmark = pytest.mark.django_db

CHECKIN, CONNECT = "/mdm/checkin", "/mdm/connect"


@pytest.fixture
def signed(tenant, client):
    device = factories.device(tenant)
    factories.command(device, "DeviceInformation")
    factories.command(device, "ProfileList")
    certificate, key = factories.device_identity(device)

    def put(url, body: bytes, *, sign=True):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {device.session.raw_token}"}
        if sign:
            signature = cms.sign(body, certificate, key, detached=True)
            headers["HTTP_MDM_SIGNATURE"] = base64.b64encode(signature).decode()
        return client.generic(
            "PUT", url, body, content_type="application/x-apple-aspen-mdm", **headers
        )

    def client_put(url, body: bytes, signature: bytes):
        return client.generic(
            "PUT",
            url,
            body,
            content_type="application/x-apple-aspen-mdm",
            HTTP_AUTHORIZATION=f"Bearer {device.session.raw_token}",
            HTTP_MDM_SIGNATURE=base64.b64encode(signature).decode(),
        )

    put.device = device
    put.client_put = client_put
    return put


def snapshot():
    return (
        list(Device.objects.order_by("pk").values()),
        list(Command.objects.order_by("pk").values_list("pk", "status", "answered_at", "result")),
        DeviceEvent.objects.count(),
        DeviceApp.objects.count(),
        DeviceProfile.objects.count(),
    )


def test_a_good_idle_is_answered_with_a_command(signed):
    message = {"Status": "Idle", "EnrollmentID": signed.device.enrollment_id}
    response = signed(CONNECT, plistlib.dumps(message))
    assert response.status_code == 200
    assert plistlib.loads(response.content)["Command"]["RequestType"] == "DeviceInformation"


def test_the_signature_is_checked_before_the_body_is_parsed(signed):
    before = snapshot()
    deep = b"<plist>" + b"<array>" * 5000 + b"</array>" * 5000 + b"</plist>"
    unsigned = signed(CONNECT, deep, sign=False)
    assert unsigned.status_code == 401
    response = signed(CONNECT, deep + b" ")  # signed, then parsed: refused as too deep/bad
    assert 400 <= response.status_code < 500
    assert snapshot() == before


def test_nul_byte_in_a_connect_body_writes_nothing(signed):
    before = snapshot()
    message = {"Status": "Idle", "EnrollmentID": signed.device.enrollment_id, "Extra": "a\x00b"}
    # Only a binary plist can carry a NUL byte; XML forbids it.
    response = signed(CONNECT, plistlib.dumps(message, fmt=plistlib.FMT_BINARY))
    assert response.status_code == 400
    assert snapshot() == before


_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.text(max_size=20)
    | st.binary(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    status=st.sampled_from(["Idle", "Acknowledged", "Error", "NotNow", "CommandFormatError"])
    | _values,
    message_type=st.sampled_from(
        ["Authenticate", "TokenUpdate", "CheckOut", "DeclarativeManagement"]
    )
    | _values,
    extra=st.dictionaries(
        st.sampled_from(
            [
                "CommandUUID",
                "ErrorChain",
                "QueryResponses",
                "ProfileList",
                "Token",
                "PushMagic",
                "Endpoint",
                "Topic",
                "EnrollmentID",
            ]
        ),
        _values,
        max_size=4,
    ),
    endpoint=st.sampled_from([CHECKIN, CONNECT]),
)
def test_any_message_gets_a_clear_answer_and_a_refusal_writes_nothing(
    signed, status, message_type, extra, endpoint
):
    message = {
        "EnrollmentID": signed.device.enrollment_id,
        "Status": status,
        "MessageType": message_type,
        **extra,
    }
    message = {k: v for k, v in message.items() if v is not None}
    try:
        body = plistlib.dumps(message, fmt=plistlib.FMT_BINARY)
    except (TypeError, OverflowError, ValueError):
        return  # not representable as a plist at all
    before = snapshot()
    response = signed(endpoint, body)
    assert response.status_code < 500
    if response.status_code >= 400:
        assert snapshot() == before


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=400), cut=st.integers(min_value=0, max_value=400))
def test_mutated_bodies_never_cause_a_server_error(signed, data, cut):
    good = plistlib.dumps({"Status": "Idle", "EnrollmentID": signed.device.enrollment_id})
    for body in (data, good[:cut] + data[:10], good.replace(b"Idle", data[:8] or b"x")):
        before = snapshot()
        response = signed(CONNECT, body)
        assert response.status_code < 500
        if response.status_code >= 400:
            assert snapshot() == before


def test_a_certificate_with_an_unknown_signature_algorithm_is_refused_not_a_500(signed, tenant):
    """Found by bench/fuzz_devices.py: a garbled signature OID in the signer's certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    from enrollment.scep import services as scep

    certificate, key = factories.device_identity(signed.device)
    der = certificate.public_bytes(Encoding.DER)
    sha256_rsa = bytes.fromhex("2a864886f70d01010b")  # 1.2.840.113549.1.1.11
    garbled = der.replace(sha256_rsa, bytes.fromhex("3a864886f70d01010b"))
    try:
        broken = x509.load_der_x509_certificate(garbled)
    except ValueError:
        pytest.skip("this cryptography refuses the garbled certificate outright")
    assert scep._ca(tenant)  # the tenant's CA exists
    before = snapshot()
    body = plistlib.dumps({"Status": "Idle", "EnrollmentID": signed.device.enrollment_id})
    signature = cms.sign(body, broken, key, detached=True)
    response = signed.client_put(CONNECT, body, signature)
    assert response.status_code in (401, 403)
    assert snapshot() == before
