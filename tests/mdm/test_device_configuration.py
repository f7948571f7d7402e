"""The device tile as the place to configure a device: portal name, tags, direct profiles (page
and API), bulk tag actions, pending commands, the identity warning and renewal at connect."""

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdm import device_labels, renewal
from mdm.models import Command, Device
from tests import factories
from tests.db_snapshot import table_counts
from tests.mdm.conftest import Poller
from users.models import Tag

pytestmark = pytest.mark.django_db

WIFI = {"SSID_STR": "Office", "EncryptionType": "WPA2", "Password": "wifi-secret-1"}


@pytest.fixture
def profile(tenant):
    return factories.configuration_profile(
        tenant, payloads=[("com.apple.wifi.managed", WIFI)], name="Office Wi-Fi"
    )


def _devices_url(device, suffix=""):
    return f"/mobile-security/devices/{device.pk}/{suffix}"


def test_settings_form_names_tags_and_assigns_profiles(admin_client, tenant, profile):
    device = factories.device(tenant)
    response = admin_client.post(
        _devices_url(device, "settings/"),
        {"name": "Front desk iPad", "tag_names": "Sales, Berlin", "profiles": [profile.pk]},
    )
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.name == "Front desk iPad" and device.config_due
    assert sorted(t.name for t in device.tags.all()) == ["Berlin", "Sales"]
    assert list(device.direct_profiles.all()) == [profile]
    page = admin_client.get(_devices_url(device)).content.decode()
    assert "Front desk iPad" in page and "Office Wi-Fi" in page
    assert "Waits for the device" in page  # wanted, not yet on the device
    tiles = admin_client.get("/mobile-security/devices/").content.decode()
    assert "Front desk iPad" in tiles and "Berlin" in tiles


def test_settings_form_refuses_another_tenants_profile(admin_client, tenant, other_tenant):
    device = factories.device(tenant)
    foreign = factories.configuration_profile(
        other_tenant, payloads=[("com.apple.wifi.managed", WIFI)]
    )
    before = table_counts()
    response = admin_client.post(
        _devices_url(device, "settings/"), {"name": "x", "profiles": [foreign.pk]}
    )
    assert response.status_code == 400
    assert table_counts() == before


def test_readonly_sees_but_cannot_change(readonly_client, tenant):
    device = factories.device(tenant, name="Kiosk")
    page = readonly_client.get(_devices_url(device)).content.decode()
    assert "Kiosk" in page and 'id="device-settings"' not in page
    assert readonly_client.post(_devices_url(device, "settings/"), {"name": "y"}).status_code == 403


def test_bulk_add_and_remove_tag(admin_client, tenant):
    devices = [factories.device(tenant) for _ in range(3)]
    other = factories.device(tenant)
    selected = [d.pk for d in devices]
    response = admin_client.post(
        "/mobile-security/devices/bulk/",
        {"action": "add_tag", "tag": "Field team", "selected": selected},
    )
    assert response.status_code == 302
    tag = Tag.objects.get(tenant=tenant, name="Field team")
    assert set(tag.devices.all()) == set(devices)
    assert Device.objects.filter(pk__in=selected, config_due=True).count() == 3
    assert not Device.objects.get(pk=other.pk).config_due
    Device.objects.update(config_due=False)
    admin_client.post(
        "/mobile-security/devices/bulk/",
        {"action": "remove_tag", "tag": "field TEAM", "selected": selected[:2]},
    )
    assert list(tag.devices.all()) == [devices[2]]
    assert Device.objects.filter(config_due=True).count() == 2


def test_bulk_tag_ignores_another_tenants_devices(admin_client, tenant, other_tenant):
    foreign = factories.device(other_tenant)
    admin_client.post(
        "/mobile-security/devices/bulk/",
        {"action": "add_tag", "tag": "Mine", "selected": [foreign.pk]},
    )
    assert not foreign.tags.exists()


def test_bulk_tag_without_a_name_changes_nothing(admin_client, tenant):
    device = factories.device(tenant)
    before = table_counts()
    admin_client.post(
        "/mobile-security/devices/bulk/",
        {"action": "add_tag", "tag": "  ", "selected": [device.pk]},
    )
    assert table_counts() == before


def test_pending_command_can_be_canceled(admin_client, tenant):
    device = factories.device(tenant)
    command = factories.command(device, "ProfileList")
    page = admin_client.get(_devices_url(device)).content.decode()
    assert 'id="pending-commands"' in page and "ProfileList" in page
    admin_client.post(_devices_url(device, f"commands/{command.uuid}/cancel/"))
    command.refresh_from_db()
    assert command.status == Command.Status.CANCELED


def test_api_writes_name_tags_and_direct_profiles(api_client, tenant, profile):
    device = factories.device(tenant)
    url = f"/api/devices/{device.pk}/"
    response = api_client.patch(
        url,
        {"name": "Lab phone", "tags": ["QA"], "direct_profiles": [profile.pk]},
        format="json",
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["name"] == "Lab phone" and data["tags"] == ["QA"]
    assert data["direct_profiles"] == [profile.pk]
    # Read-only fields stay as they are.
    api_client.patch(url, {"status": "unenrolled", "enrollment_id": "X"}, format="json")
    device.refresh_from_db()
    assert device.status == Device.Status.ENROLLED and device.enrollment_id != "X"
    # The per-device profile states are listed once the device connected.
    Poller(device).report()
    rows = api_client.get(url).json()["profiles"]
    assert rows == [
        {
            "identifier": profile.identifier,
            "display_name": "Office Wi-Fi",
            "payload_uuid": "",
            "organization": "",
            "profile": profile.pk,
            "state": "queued",
            "error_chain": [],
            "installed_revision": None,
            "queued_revision": 1,
            "updated_at": rows[0]["updated_at"],
        }
    ]


def test_api_refuses_another_tenants_profile_and_device(
    api_client, other_api_client, tenant, other_tenant
):
    device = factories.device(tenant)
    foreign = factories.configuration_profile(
        other_tenant, payloads=[("com.apple.wifi.managed", WIFI)]
    )
    before = table_counts()
    response = api_client.patch(
        f"/api/devices/{device.pk}/", {"direct_profiles": [foreign.pk]}, format="json"
    )
    assert response.status_code == 400
    response = other_api_client.patch(f"/api/devices/{device.pk}/", {"name": "x"}, format="json")
    assert response.status_code == 404
    assert table_counts() == before


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.dictionaries(
        st.sampled_from(["name", "tags", "direct_profiles"]),
        st.one_of(
            st.none(),
            st.integers(),
            st.text(max_size=300),
            st.lists(st.one_of(st.text(max_size=80), st.integers()), max_size=3),
        ),
    )
)
def test_api_device_body_never_500(api_client, tenant, body):
    device = Device.objects.filter(tenant=tenant).first() or factories.device(tenant)
    response = api_client.patch(f"/api/devices/{device.pk}/", body, format="json")
    assert response.status_code < 500


def test_identity_warning_when_re_enrollment_is_off(tenant, settings):
    settings.MDM_IDENTITY_RENEWAL_DAYS = 60
    device = factories.device(
        tenant,
        identity_not_after=timezone.now() + timedelta(days=20),
        last_seen_at=timezone.now() - timedelta(hours=1),
    )
    Poller(device).report()
    assert not device.commands.filter(request_type="InstallProfile").exists()
    texts = [str(text) for _, text in device_labels.labels(device, renewal_enabled=False)]
    assert any("turn on Apple re-enrollment" in text for text in texts)
    far = factories.device(tenant, identity_not_after=timezone.now() + timedelta(days=200))
    assert not renewal.expires_soon(far)


def test_identity_renewal_is_queued_once(tenant, settings):
    from apple.push_identity import install_demo_push_certificate
    from enrollment.models import Profile

    install_demo_push_certificate(tenant)
    Profile.objects.create(tenant=tenant, name="Personal", is_default=True)
    tenant.apple_reenrollment_enabled = True
    tenant.save(update_fields=["apple_reenrollment_enabled"])
    device = factories.device(
        tenant,
        identity_not_after=timezone.now() + timedelta(days=20),
        last_seen_at=timezone.now() - timedelta(hours=1),
        terms_accepted=False,  # a renewal does not wait for the terms
    )
    poller = Poller(device)
    envelope = poller.report()
    assert envelope["Command"]["RequestType"] == "InstallProfile"
    assert set(envelope["Command"]) == {"RequestType", "Payload"}
    Device.objects.filter(pk=device.pk).update(last_seen_at=timezone.now() - timedelta(hours=1))
    poller.report()
    assert device.commands.filter(request_type="InstallProfile").count() == 1
    texts = [str(text) for _, text in device_labels.labels(device, renewal_enabled=True)]
    assert "Identity renewal under way" in texts
