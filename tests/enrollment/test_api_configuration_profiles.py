"""REST API of configuration profiles: payloads, tags, write-only secrets, forbidden keys refused
with their names, never a 500 for any body, and another tenant's profile is a 404."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apple import schema
from enrollment import configuration_profiles as cp
from enrollment.models import Profile
from tests import factories

URL = "/api/configuration-profiles/"
WIFI = {"payload_type": "com.apple.wifi.managed", "values": {"SSID_STR": "Office"}}


def test_create_read_update_delete(api_client, tenant):
    body = {
        "name": "Office",
        "tags": ["Sales"],
        "payloads": [
            {**WIFI, "values": {"SSID_STR": "Office", "Password": "api-secret-1"}},
            {
                "payload_type": "com.apple.security.root",
                "values": {"PayloadContent": {"$data": "MIIBAA=="}},
            },
        ],
    }
    response = api_client.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["tags"] == ["Sales"] and data["revision"] == 1
    wifi = data["payloads"][0]
    assert "Password" not in wifi["values"] and wifi["secrets_stored"] == ["Password"]
    assert "api-secret-1" not in response.content.decode()
    profile = Profile.objects.get(pk=data["id"])
    built = cp.build_configuration_profile(profile, {})
    assert schema.validate_profile(built, user_enrollment=True) == []
    assert built["PayloadContent"][1]["PayloadContent"] == b"0\x82\x01\x00"

    # A PATCH that leaves the secret out keeps it; a payload left out is removed.
    patch = {"payloads": [{"id": wifi["id"], **WIFI, "values": {"SSID_STR": "Office 2"}}]}
    response = api_client.patch(f"{URL}{profile.pk}/", patch, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["revision"] == 2 and len(response.json()["payloads"]) == 1
    assert cp.payload_values_of(profile.payloads.get())["Password"] == "api-secret-1"
    assert api_client.delete(f"{URL}{profile.pk}/").status_code == 204
    assert not Profile.objects.filter(pk=profile.pk).exists()


@pytest.mark.parametrize(
    "payload,name",
    [
        ({"payload_type": "com.apple.wifi.managed", "values": {"ProxyServer": "p"}}, "ProxyServer"),
        (
            {"payload_type": "com.apple.applicationaccess", "values": {"allowCamera": False}},
            "allowCamera",
        ),
        ({"payload_type": "com.apple.vpn.managed", "values": {}}, "com.apple.vpn.managed"),
        ({"payload_type": "com.apple.mdm", "values": {}}, "com.apple.mdm"),
        ({**WIFI, "values": {"SSID_STR": "$NOPE"}}, "$NOPE"),
    ],
)
def test_forbidden_is_refused_with_the_keys_name(api_client, tenant, payload, name):
    response = api_client.post(URL, {"name": "x", "payloads": [payload]}, format="json")
    assert response.status_code == 400
    assert name in response.content.decode()
    assert not Profile.objects.exists()


def test_forbidden_top_level_is_not_writable(api_client, tenant):
    response = api_client.post(URL, {"name": "x", "PayloadRemovalDisallowed": True}, format="json")
    assert response.status_code == 400 and "PayloadRemovalDisallowed" in response.content.decode()


def test_user_registration_profiles_stay_apart(api_client, tenant):
    Profile.objects.create(tenant=tenant, name="Enroll", is_default=True)
    factories.configuration_profile(tenant, name="Config")
    assert [p["name"] for p in api_client.get("/api/profiles/").json()["results"]] == ["Enroll"]
    assert [p["name"] for p in api_client.get(URL).json()["results"]] == ["Config"]
    response = api_client.post(
        "/api/profiles/", {"name": "x", "kind": "configuration"}, format="json"
    )
    assert response.status_code == 400


def test_another_tenants_profile_is_404(other_api_client, tenant):
    profile = factories.configuration_profile(tenant, payloads=[(WIFI["payload_type"], {})])
    assert other_api_client.get(f"{URL}{profile.pk}/").status_code == 404
    assert (
        other_api_client.patch(f"{URL}{profile.pk}/", {"name": "y"}, format="json").status_code
        == 404
    )
    assert other_api_client.delete(f"{URL}{profile.pk}/").status_code == 404
    assert Profile.objects.get(pk=profile.pk).name == "Office"


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
_payload = st.fixed_dictionaries(
    {"payload_type": st.sampled_from(["com.apple.wifi.managed", "com.apple.webClip.managed", "x"])},
    optional={"values": _json, "id": st.integers()},
)
_body = st.fixed_dictionaries(
    {},
    optional={
        "name": _json | st.text(max_size=30),
        "removal": st.sampled_from(["with_enrollment", "on_date", "after_days", "x"]),
        "removal_after_days": _json,
        "tags": _json,
        "payloads": st.lists(_payload | _json, max_size=3) | _json,
    },
)


@given(body=_body)
def test_any_body_is_answered_without_a_500(api_client, tenant, body):
    response = api_client.post(URL, body, format="json")
    assert response.status_code in (201, 400), response.content
