"""Pages of configuration profiles: tabs, payloads, tags, delete, import; tenants apart."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import given
from hypothesis import strategies as st

from enrollment import configuration_profiles as cp
from enrollment import profile_import
from enrollment.models import Profile
from tests import factories

SAMPLE = Path(__file__).with_name("data") / "sample.mobileconfig"


@pytest.fixture
def base(admin_client):
    from django.urls import reverse

    return reverse("enrollment:profiles").rstrip("/")


def test_create_add_wifi_edit_and_delete(admin_client, tenant, base):
    response = admin_client.post(
        f"{base}/configuration/new/",
        {"name": "Office", "removal": "with_enrollment", "tag_names": "Sales, Staff"},
    )
    profile = Profile.objects.get(kind=Profile.Kind.CONFIGURATION)
    assert response.status_code == 302 and str(profile.pk) in response["Location"]
    assert sorted(t.name for t in profile.tags.all()) == ["Sales", "Staff"]
    edit = f"{base}/configuration/{profile.pk}/"
    page = admin_client.get(edit + "?tab=wifi&add=com.apple.wifi.managed")
    assert page.status_code == 200 and b"new-payload" in page.content
    response = admin_client.post(
        edit,
        {
            "action": "create-payload",
            "tab": "wifi",
            "payload_type": "com.apple.wifi.managed",
            "new-SSID_STR": "Office",
            "new-EncryptionType": "WPA2",
            "new-Password": "page-secret-1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    payload = profile.payloads.get()
    page = admin_client.get(edit + "?tab=wifi")
    assert b"page-secret-1" not in page.content and b"Office" in page.content
    response = admin_client.post(
        edit,
        {
            "action": "save-payload",
            "tab": "wifi",
            "payload": payload.pk,
            f"p{payload.pk}-SSID_STR": "Office 2",
            f"p{payload.pk}-EncryptionType": "WPA2",
        },
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.revision == 3  # payload added, then changed
    assert cp.payload_values_of(payload)["Password"] == "page-secret-1"
    response = admin_client.post(f"{base}/{profile.pk}/delete/")
    assert response.status_code == 302 and not Profile.objects.filter(pk=profile.pk).exists()


def test_a_forbidden_key_posted_anyway_is_not_stored(admin_client, tenant, base):
    profile = factories.configuration_profile(tenant)
    response = admin_client.post(
        f"{base}/configuration/{profile.pk}/",
        {
            "action": "create-payload",
            "tab": "wifi",
            "payload_type": "com.apple.wifi.managed",
            "new-SSID_STR": "Office",
            "new-ProxyServer": "proxy.example.com",
        },
    )
    assert response.status_code == 302  # the editor has no such field: the key is dropped
    assert "ProxyServer" not in cp.payload_values_of(profile.payloads.get())


def test_a_forbidden_payload_type_is_refused(admin_client, tenant, base):
    profile = factories.configuration_profile(tenant)
    response = admin_client.post(
        f"{base}/configuration/{profile.pk}/",
        {"action": "create-payload", "tab": "vpn", "payload_type": "com.apple.vpn.managed"},
    )
    assert response.status_code == 400 and not profile.payloads.exists()


def test_unknown_variable_in_general_is_refused(admin_client, tenant, base):
    response = admin_client.post(
        f"{base}/configuration/new/", {"name": "For $WHO", "removal": "with_enrollment"}
    )
    assert response.status_code == 200 and b"$WHO" in response.content
    assert not Profile.objects.exists()


def test_list_shows_both_kinds(admin_client, tenant, base):
    Profile.objects.create(tenant=tenant, name="Enroll", is_default=True)
    factories.configuration_profile(tenant, name="Mail and Wi-Fi")
    page = admin_client.get(f"{base}/").content.decode()
    assert "Enroll" in page and "Mail and Wi-Fi" in page and "New configuration profile" in page


def test_read_only_may_look_not_change(readonly_client, tenant, base):
    profile = factories.configuration_profile(tenant)
    assert readonly_client.get(f"{base}/configuration/{profile.pk}/").status_code == 200
    response = readonly_client.post(
        f"{base}/configuration/{profile.pk}/", {"action": "general", "name": "x"}
    )
    assert response.status_code == 403


def test_another_tenants_profile_is_404(other_admin_client, tenant, base):
    profile = factories.configuration_profile(
        tenant, payloads=[("com.apple.wifi.managed", {"SSID_STR": "x"})]
    )
    url = f"{base}/configuration/{profile.pk}/"
    assert other_admin_client.get(url).status_code == 404
    payload = profile.payloads.get()
    response = other_admin_client.post(url, {"action": "remove-payload", "payload": payload.pk})
    assert response.status_code == 404 and profile.payloads.exists()
    assert other_admin_client.post(f"{base}/{profile.pk}/delete/").status_code == 404


def test_import_report_of_the_sample():
    result = profile_import.read_profile(SAMPLE.read_bytes())
    statuses = {(row.payload.split(" ")[-1], row.key): row.status for row in result.rows}
    wifi = "com.apple.wifi.managed"
    assert statuses[(wifi, "SSID_STR")] == "accepted"
    assert statuses[(wifi, "Password")] == "accepted"
    assert statuses[(wifi, "ProxyServer")] == "forbidden"
    assert statuses[(wifi, "Bogus")] == "unknown"
    assert statuses[("com.apple.mobiledevice.passwordpolicy", "minLength")] == "ignored"
    assert statuses[("com.apple.vpn.managed", "")] == "forbidden"
    assert statuses[("com.example.unknown", "")] == "unknown"
    assert statuses[("", "PayloadRemovalDisallowed")] == "forbidden"
    assert result.can_save and [t for t, _v in result.payloads] == [
        wifi,
        "com.apple.mobiledevice.passwordpolicy",
    ]


def test_import_signed_sample_preview_then_save(admin_client, tenant, base):
    from enrollment.signing import sign_profile

    signed = sign_profile(SAMPLE.read_bytes())
    upload = SimpleUploadedFile("office.mobileconfig", signed)
    page = admin_client.post(f"{base}/configuration/import/", {"file": upload})
    assert page.status_code == 200
    text = page.content.decode()
    assert "Signed by" in text and "ProxyServer" in text and "Forbidden in user enrollment" in text
    assert not Profile.objects.exists()  # nothing before the confirmation
    response = admin_client.post(
        f"{base}/configuration/import/", {"confirm": "1", "tag_names": "Office"}
    )
    assert response.status_code == 302
    profile = Profile.objects.get(kind=Profile.Kind.CONFIGURATION)
    assert profile.name == "Office (imported)" and profile.tags.get().name == "Office"
    built = cp.build_configuration_profile(profile, {"USERNAME": "bob"})
    assert built["PayloadDescription"] == "Wi-Fi and mail for bob"
    wifi = built["PayloadContent"][0]
    assert wifi["Password"] == "imported-wifi-secret" and "ProxyServer" not in wifi
    assert built["PayloadIdentifier"] != "com.example.office"


@pytest.mark.parametrize(
    "content",
    [b"", b"not a plist", b"0\x82\x00\x10garbage", b'<?xml version="1.0"?><plist><array/></plist>'],
)
def test_import_of_a_bad_file_is_a_400_and_stores_nothing(admin_client, tenant, base, content):
    upload = SimpleUploadedFile("bad.mobileconfig", content)
    response = admin_client.post(f"{base}/configuration/import/", {"file": upload})
    assert response.status_code == 400 and not Profile.objects.exists()


_sample = SAMPLE.read_bytes()


@given(
    data=st.binary(max_size=300)
    | st.builds(
        lambda cut, junk: _sample[:cut] + junk + _sample[cut + len(junk) :],
        st.integers(0, len(_sample)),
        st.binary(max_size=20),
    )
)
def test_the_import_parser_never_raises(data):
    result = profile_import.read_profile(data)
    assert result.errors or result.rows or result.payloads == []
    if result.can_save:
        for payload_type, values in result.payloads:
            assert cp.check_payload(payload_type, values) == []
