"""Property tests of the device-facing enrollment endpoints (discovery, enrollment POST):
whatever arrives, the answer is below 500 and a refused request writes nothing."""

import plistlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enrollment import tokens
from enrollment.models import EnrollmentSession
from tests.db_snapshot import table_counts

VECTOR = (
    Path(__file__).parents[1] / "fixtures/vectors/oreore-ios-mdm/spec/assets/enroll_body.der"
).read_bytes()
XML = plistlib.dumps({"LANGUAGE": "de-DE", "PRODUCT": "iPhone17,2", "VERSION": "22C161"})
URL = "/enroll/t/123456"
DISCOVERY = "/.well-known/com.apple.remotemanagement"


@pytest.fixture(autouse=True)
def _https_base(settings):
    settings.PORTAL_BASE_URL = "https://portal.example.com"


def mutate(data, position, value, cut):
    position %= len(data)
    return data[:position] if cut else data[:position] + bytes([value]) + data[position + 1 :]


identifiers = st.one_of(
    st.text(max_size=80),
    st.builds(
        lambda user, number, domain: f"{user}-{number}@{domain}",
        st.text(max_size=20),
        st.integers(min_value=-10, max_value=10**12),
        st.sampled_from(["portal.example.com", "PORTAL.example.com", "x", "", "\x00"]),
    ),
)


@given(identifier=identifiers, family=st.sampled_from(["iPhone", "iPad", "Mac", "", "\x00"]))
def test_discovery_never_500_never_writes(client, address, identifier, family):
    before = table_counts()
    response = client.get(DISCOVERY, {"user-identifier": identifier, "model-family": family})
    assert response.status_code in (200, 403)
    assert table_counts() == before


bodies = st.one_of(
    st.binary(max_size=400),
    st.builds(mutate, st.just(VECTOR), st.integers(0, 10**6), st.integers(0, 255), st.booleans()),
    st.builds(mutate, st.just(XML), st.integers(0, 10**6), st.integers(0, 255), st.booleans()),
    st.dictionaries(
        st.text(max_size=10), st.one_of(st.text(max_size=10), st.integers(), st.lists(st.none()))
    ).map(
        lambda d: plistlib.dumps(
            {k: v for k, v in d.items() if v != [None]}, fmt=plistlib.FMT_BINARY
        )
    ),
)


@given(body=bodies, token=st.sampled_from([None, "forged", "\x00", "valid"]))
def test_enrollment_post_never_500_and_refusals_write_nothing(
    client, address, managed_user, body, token
):
    raw = tokens.issue(managed_user)[1] if token == "valid" else token
    before = table_counts()
    sessions = list(EnrollmentSession.objects.values_list("pk", "state", "profile_fetches"))
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"} if raw else {}
    response = client.generic(
        "POST", URL, body, content_type="application/pkcs7-signature", **headers
    )
    assert response.status_code < 500
    if response.status_code != 200:
        assert table_counts() == before
        assert list(EnrollmentSession.objects.values_list("pk", "state", "profile_fetches")) == (
            sessions
        )


def test_nul_in_machine_info_is_refused(client, address, managed_user):
    _, raw = tokens.issue(managed_user)
    body = plistlib.dumps({"PRODUCT": "iPhone\x00", "VERSION": "1"}, fmt=plistlib.FMT_BINARY)
    response = client.generic(
        "POST", URL, body, content_type="application/x", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert response.status_code == 400
    assert EnrollmentSession.objects.get().profile_fetches == 0


@pytest.mark.parametrize("number", ["0", "99999999999999999999", "123456"])
def test_odd_tenant_numbers(client, address, number):
    assert client.post(f"/enroll/t/{number}", b"", content_type="x").status_code in (401, 404)
