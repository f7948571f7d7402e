"""A managed user's changed details and a device's new portal name reach the devices: the
profiles that show them ($EMAIL, $FULL_NAME, $DEVICE_NAME) are reinstalled, the others are not,
whichever way the change came (form, API, CSV import, Entra ID sync)."""

import pytest
from django.urls import reverse

from apple import cms, plist
from mdm import profile_delivery
from mdm.models import Command, Device
from tests import factories
from tests.mdm.conftest import Poller
from users import signals
from users.imports import csv_import, entra
from users.models import ManagedUser, Tag

pytestmark = pytest.mark.django_db

WIFI = {"SSID_STR": "Office", "EncryptionType": "WPA2", "Password": "wifi-secret-1"}


def _profile(tenant, tag, name, ssid):
    return factories.configuration_profile(
        tenant,
        payloads=[("com.apple.wifi.managed", {**WIFI, "SSID_STR": ssid})],
        tags=[tag],
        name=name,
    )


@pytest.fixture
def sales(tenant):
    return Tag.objects.create(tenant=tenant, name="Sales")


@pytest.fixture
def profiles(tenant, sales):
    return {
        "plain": _profile(tenant, sales, "Plain", "Office"),
        "email": _profile(tenant, sales, "Mail", "Wi-Fi of $EMAIL"),
        "name": _profile(tenant, sales, "Name", "Wi-Fi of $FULL_NAME"),
        "device": _profile(tenant, sales, "Device", "Wi-Fi on $DEVICE_NAME"),
    }


def _ssids(poller) -> dict[str, str]:
    """Connect until nothing is left to do; the SSID of each profile installed, by name."""
    installed = {}
    envelope = poller.report()
    for _ in range(20):
        if not isinstance(envelope, dict):
            return installed
        command = envelope["Command"]
        if command["RequestType"] == "InstallProfile":
            built = plist.loads(cms.verify(command["Payload"]).content)
            installed[built["PayloadDisplayName"]] = built["PayloadContent"][0]["SSID_STR"]
        envelope = poller.answer(envelope)
    raise AssertionError("the device is never done")


def _with_profiles(tenant, sales, profiles, user=None, **fields):
    user = user or factories.managed_user(
        tenant, username="alice", first_name="Alice", last_name="Liddell"
    )
    device = factories.device(tenant, user=user, name="Alice's phone", **fields)
    device.tags.add(sales)
    poller = Poller(device)
    assert _ssids(poller) == {
        "Plain": "Office",
        "Mail": f"Wi-Fi of {user.email}",
        "Name": f"Wi-Fi of {user.first_name} {user.last_name}",
        "Device": "Wi-Fi on Alice's phone",
    }
    Device.objects.filter(pk=device.pk).update(push_requested_at=None)
    return user, device, poller


def _due_and_pushed(device) -> bool:
    device.refresh_from_db()
    return device.config_due and device.push_requested_at is not None


def _form_data(user, **changes) -> dict:
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "managed_apple_id": user.managed_apple_id,
        "language": user.language,
        "comment": user.comment,
        "tag_names": "",
        "is_active": "on",
    }
    return data | changes


def test_email_edited_on_the_form_reinstalls_the_profile_showing_it(
    admin_client, tenant, sales, profiles
):
    user, device, poller = _with_profiles(tenant, sales, profiles)
    installs = Command.objects.filter(device=device, request_type="InstallProfile").count()

    response = admin_client.post(
        reverse("users:edit", args=[user.pk]), _form_data(user, email="alice@new.example")
    )
    assert response.status_code == 302
    assert _due_and_pushed(device)
    # Only the profile with $EMAIL, with the new address in the command's payload.
    assert _ssids(poller) == {"Mail": "Wi-Fi of alice@new.example"}
    assert Command.objects.filter(device=device, request_type="InstallProfile").count() == (
        installs + 1
    )
    # Done: another reconcile sends nothing.
    Device.objects.filter(pk=device.pk).update(config_due=True)
    assert _ssids(poller) == {}


def test_saving_the_form_unchanged_makes_nothing_due(admin_client, tenant, sales, profiles):
    user, device, _poller = _with_profiles(tenant, sales, profiles)
    admin_client.post(reverse("users:edit", args=[user.pk]), _form_data(user, comment="note"))
    device.refresh_from_db()
    assert not device.config_due and device.push_requested_at is None


def test_device_renamed_reinstalls_the_profile_with_device_name(
    admin_client, tenant, sales, profiles
):
    _user, device, poller = _with_profiles(tenant, sales, profiles)
    response = admin_client.post(
        reverse("mdm:device-settings", args=[device.pk]),
        {"name": "Work phone", "tag_names": "Sales"},
    )
    assert response.status_code == 302
    assert _due_and_pushed(device)
    assert _ssids(poller) == {"Device": "Wi-Fi on Work phone"}


def test_api_patch_of_the_name_reinstalls_the_profile_with_full_name(
    api_client, tenant, sales, profiles
):
    user, device, poller = _with_profiles(tenant, sales, profiles)
    response = api_client.patch(
        f"/api/users/{user.pk}/", {"last_name": "Hargreaves"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert _due_and_pushed(device)
    assert _ssids(poller) == {"Name": "Wi-Fi of Alice Hargreaves"}


def test_csv_import_update_of_a_name_reinstalls_the_profile_with_full_name(
    tmp_path, tenant, sales, profiles
):
    _user, device, poller = _with_profiles(tenant, sales, profiles)
    path = tmp_path / "users.csv"
    path.write_text(
        "username,email,firstname,lastname\n"
        "alice,alice@example.com,Alicia,Liddell\n"
        "bob,bob@example.com,Bob,Builder\n",
        encoding="utf-8",
    )
    outcome = csv_import.run(tenant, path, all_or_nothing=False)
    assert (outcome.created, outcome.updated) == (1, 1)
    assert _due_and_pushed(device)
    assert _ssids(poller) == {"Name": "Wi-Fi of Alicia Liddell"}


def test_entra_sync_of_a_new_mail_reinstalls_the_profile_with_email(
    graph, connection, tenant, sales, profiles
):
    entra.sync(connection)
    user = ManagedUser.objects.get(
        tenant=tenant, source=ManagedUser.Source.ENTRA, first_name="Given1"
    )
    _user, device, poller = _with_profiles(tenant, sales, profiles, user=user)
    graph.change(user.external_id, mail="given.sur@new.example")
    connection.refresh_from_db()
    assert entra.sync(connection)["updated"] == 1
    assert _due_and_pushed(device)
    assert _ssids(poller) == {"Mail": "Wi-Fi of given.sur@new.example"}


def test_a_change_no_profile_shows_makes_no_device_due(tenant, sales):
    _profile(tenant, sales, "Plain", "Office")
    user = factories.managed_user(tenant, username="carol")
    device = factories.device(tenant, user=user)
    Device.objects.filter(pk=device.pk).update(config_due=False, push_requested_at=None)
    assert not profile_delivery.devices_showing({user.pk: {"email", "first_name"}}).exists()
    signals.send_details_changed(ManagedUser, {user.pk: {"email"}})
    device.refresh_from_db()
    assert not device.config_due and device.push_requested_at is None


def test_without_a_portal_name_the_reported_name_is_shown_and_followed(tenant, sales, profiles):
    device = factories.device(tenant, name="", device_name="Alice's iPhone")
    device.tags.add(sales)
    poller = Poller(device)
    assert _ssids(poller)["Device"] == "Wi-Fi on Alice's iPhone"

    factories.command(device, "DeviceInformation", {"Queries": ["DeviceName"]})
    envelope = poller.report()
    assert envelope["Command"]["RequestType"] == "DeviceInformation"
    envelope = poller.answer(envelope, QueryResponses={"DeviceName": "Alice's new iPhone"})
    # In the same exchange: the profile with $DEVICE_NAME, and only it.
    assert envelope["Command"]["RequestType"] == "InstallProfile"
    built = plist.loads(cms.verify(envelope["Command"]["Payload"]).content)
    assert built["PayloadContent"][0]["SSID_STR"] == "Wi-Fi on Alice's new iPhone"
    assert not isinstance(poller.answer(envelope), dict)  # nothing else to do

    # The same name reported again changes nothing.
    factories.command(device, "DeviceInformation", {"Queries": ["DeviceName"]})
    envelope = poller.report()
    envelope = poller.answer(envelope, QueryResponses={"DeviceName": "Alice's new iPhone"})
    assert not isinstance(envelope, dict)


def test_email_edited_sends_again_the_apps_whose_configuration_shows_it(admin_client, tenant):
    from mdm.models import AppInstallation

    user = factories.managed_user(tenant, username="bob", email="bob@old.example")
    device = factories.device(tenant, user=user)
    showing = factories.app(tenant, configuration={"account": "$EMAIL", "server": "mail.example"})
    plain = factories.app(tenant, configuration={"server": "mail.example"})
    named = factories.app(tenant, configuration={"greeting": "Hello $FULL_NAME"})
    for app in (showing, plain, named):
        AppInstallation.objects.create(
            tenant=tenant, device=device, app=app, state=AppInstallation.State.INSTALLED
        )

    response = admin_client.post(
        reverse("users:edit", args=[user.pk]), _form_data(user, email="bob@new.example")
    )
    assert response.status_code == 302
    sent = Command.objects.filter(device=device, request_type="InstallApplication")
    assert [c.arguments["iTunesStoreID"] for c in sent] == [int(showing.adam_id)]
    assert AppInstallation.objects.get(app=showing).state == AppInstallation.State.QUEUED
    assert AppInstallation.objects.get(app=plain).state == AppInstallation.State.INSTALLED
    # Filled in when it goes out: the new address.
    envelope = Poller(device).report()
    while envelope["Command"]["RequestType"] != "InstallApplication":
        envelope = Poller(device).answer(envelope)
    assert envelope["Command"]["Configuration"] == {
        "account": "bob@new.example",
        "server": "mail.example",
    }
    device.refresh_from_db()
    assert device.push_requested_at is not None
