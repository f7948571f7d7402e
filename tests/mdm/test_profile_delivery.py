"""Configuration profiles delivered at connect (mdm.profile_delivery): install, replace, remove,
state per device and profile, the terms gate, and what a change stores before any connect."""

import pytest

from apple import cms, plist
from enrollment import configuration_profiles as cp
from enrollment import signals as enrollment_signals
from enrollment.models import EnrollmentSession
from mdm import desired, profile_delivery
from mdm.models import Command, Device, DeviceProfile
from tests import factories
from tests.mdm.conftest import Poller
from users.models import Tag

pytestmark = pytest.mark.django_db

WIFI = {"SSID_STR": "Office", "EncryptionType": "WPA2", "Password": "wifi-secret-1"}
ERROR_CHAIN = [
    {
        "ErrorCode": 4001,
        "ErrorDomain": "MCProfileErrorDomain",
        "LocalizedDescription": "The profile could not be installed.",
        "USEnglishDescription": "The profile could not be installed.",
    }
]


@pytest.fixture
def sales(tenant):
    return Tag.objects.create(tenant=tenant, name="Sales")


@pytest.fixture
def wifi(tenant, sales):
    return factories.configuration_profile(
        tenant, payloads=[("com.apple.wifi.managed", WIFI)], tags=[sales], name="Wi-Fi"
    )


def _installed_profile(envelope) -> dict:
    command = envelope["Command"]
    assert command["RequestType"] == "InstallProfile"
    return plist.loads(cms.verify(command["Payload"]).content)


def _row(device, profile) -> DeviceProfile:
    return DeviceProfile.objects.get(device=device, profile=profile)


def _due(device) -> bool:
    device.refresh_from_db()
    return device.config_due


def test_install_replace_remove_cycle(tenant, sales, wifi):
    user = factories.managed_user(tenant, username="alice", first_name="Alice")
    device = factories.device(tenant, user=user, name="Alice's phone")
    poller = Poller(device)
    device.tags.add(sales)  # marks the device due
    assert _due(device)

    envelope = poller.report()
    built = _installed_profile(envelope)
    assert built["PayloadIdentifier"] == wifi.identifier
    row = _row(device, wifi)
    assert row.state == DeviceProfile.State.QUEUED and row.queued_revision == 1
    assert poller.answer(envelope).status == 200  # nothing else due: empty answer
    row.refresh_from_db()
    assert row.state == DeviceProfile.State.INSTALLED and row.installed_revision == 1
    assert not _due(device)

    # Nothing changed: a later reconcile queues nothing.
    Device.objects.filter(pk=device.pk).update(config_due=True)
    assert poller.report().status == 200

    # A new revision replaces the installed profile (same identifier).
    payload = wifi.payloads.get()
    cp.set_payload_values(payload, {**WIFI, "SSID_STR": "Office 2"})
    payload.save()
    assert cp.record_change(wifi)  # the signal marks the device due
    assert _due(device)
    envelope = poller.report()
    built = _installed_profile(envelope)
    assert built["PayloadIdentifier"] == wifi.identifier
    assert built["PayloadContent"][0]["SSID_STR"] == "Office 2"
    poller.answer(envelope)
    row.refresh_from_db()
    assert (row.state, row.installed_revision) == (DeviceProfile.State.INSTALLED, 2)

    # The tag taken off: RemoveProfile, and the row goes with its answer.
    device.tags.remove(sales)
    envelope = poller.report()
    assert envelope["Command"] == {"RequestType": "RemoveProfile", "Identifier": wifi.identifier}
    assert _row(device, wifi).state == DeviceProfile.State.REMOVING
    poller.answer(envelope)
    assert not DeviceProfile.objects.filter(device=device).exists()


def test_variables_are_replaced_per_device(tenant, sales):
    profile = factories.configuration_profile(
        tenant,
        payloads=[("com.apple.wifi.managed", {**WIFI, "SSID_STR": "$USERNAME on $DEVICE_NAME"})],
        tags=[sales],
    )
    user = factories.managed_user(tenant, username="bob")
    device = factories.device(tenant, user=user, name="Bob's iPad")
    device.tags.add(sales)
    built = _installed_profile(Poller(device).report())
    assert built["PayloadContent"][0]["SSID_STR"] == "bob on Bob's iPad"
    # A new portal name is a new version for this profile (it uses $DEVICE_NAME).
    row = _row(device, profile)
    variables = profile_delivery.variables_of(device)
    assert row.queued_hash == profile_delivery.delivery_hash(profile, variables)
    Device.objects.filter(pk=device.pk).update(name="Other")
    assert (
        profile_delivery.delivery_hash(profile, profile_delivery.variables_of(device))
        != row.queued_hash
    )


def test_user_tags_and_direct_assignment_reach_the_device(tenant, sales, wifi):
    user = factories.managed_user(tenant)
    device = factories.device(tenant, user=user)
    direct = factories.configuration_profile(
        tenant, payloads=[("com.apple.wifi.managed", WIFI)], name="Direct"
    )
    user.tags.add(sales)
    device.direct_profiles.add(direct)
    assert set(profile_delivery.wanted_profiles(device)) == {wifi, direct}
    poller = Poller(device)
    first = poller.report()
    second = poller.answer(first)
    identifiers = {_installed_profile(e)["PayloadIdentifier"] for e in (first, second)}
    assert identifiers == {wifi.identifier, direct.identifier}


def test_failed_install_keeps_the_error_chain_until_the_profile_changes(tenant, sales, wifi):
    device = factories.device(tenant)
    device.tags.add(sales)
    poller = Poller(device)
    envelope = poller.report()
    poller.answer(envelope, status="Error", ErrorChain=ERROR_CHAIN)
    row = _row(device, wifi)
    assert row.state == DeviceProfile.State.FAILED
    assert row.error_chain[0]["ErrorCode"] == 4001
    Device.objects.filter(pk=device.pk).update(config_due=True)
    assert poller.report().status == 200  # not retried for the same version


def test_a_change_stores_no_rows_before_the_devices_connect(tenant, sales, wifi):
    devices = [factories.device(tenant) for _ in range(5)]
    Device.tags.through.objects.bulk_create(
        [Device.tags.through(device_id=d.pk, tag_id=sales.pk) for d in devices]
    )
    Device.objects.update(config_due=False)
    commands, rows = Command.objects.count(), DeviceProfile.objects.count()
    payload = wifi.payloads.get()
    cp.set_payload_values(payload, {**WIFI, "SSID_STR": "Changed"})
    payload.save()
    cp.record_change(wifi)
    assert Device.objects.filter(config_due=True).count() == 5
    assert (Command.objects.count(), DeviceProfile.objects.count()) == (commands, rows)
    Poller(devices[0]).report()
    assert DeviceProfile.objects.count() == rows + 1


def test_deleted_profile_is_removed_from_devices(tenant, sales, wifi):
    device = factories.device(tenant)
    device.tags.add(sales)
    poller = Poller(device)
    poller.answer(poller.report())
    wifi.delete()
    assert _due(device)
    envelope = poller.report()
    assert envelope["Command"]["RequestType"] == "RemoveProfile"
    assert envelope["Command"]["Identifier"] == wifi.identifier


def test_profile_list_keeps_pending_rows_and_reinstalls_a_lost_profile(tenant, sales, wifi):
    device = factories.device(tenant)
    device.tags.add(sales)
    poller = Poller(device)
    install = poller.report()
    # The ProfileList answer arrives before the install is done: the queued row stays.
    listing = factories.command(device, "ProfileList")
    Command.objects.filter(pk=listing.pk).update(status=Command.Status.SENT)
    poller.answer({"CommandUUID": str(listing.uuid).upper()}, ProfileList=[])
    assert _row(device, wifi).state == DeviceProfile.State.QUEUED
    poller.answer(install)
    # Later the device no longer lists it: forgotten, and installed again in the same exchange
    # (after an empty answer the device would not come back unasked).
    Device.objects.filter(pk=device.pk).update(config_due=False)
    listing = factories.command(device, "ProfileList")
    Command.objects.filter(pk=listing.pk).update(status=Command.Status.SENT)
    again = poller.answer({"CommandUUID": str(listing.uuid).upper()}, ProfileList=[])
    assert _installed_profile(again)["PayloadIdentifier"] == wifi.identifier
    assert _row(device, wifi).state == DeviceProfile.State.QUEUED and not _due(device)


def test_terms_gate_holds_configuration_back_then_releases_it(tenant, sales, wifi):
    device = factories.device(tenant, terms_accepted=False)
    device.tags.add(sales)
    poller = Poller(device)
    assert poller.report().status == 200  # nothing goes out, nothing is stored
    assert not DeviceProfile.objects.filter(device=device).exists()
    assert desired.held_back([device]) == {device.pk: {"profiles": 1}}

    enrollment_signals.terms_accepted.send(sender=EnrollmentSession, session=device.session)
    device.refresh_from_db()
    assert device.terms_accepted and device.config_due
    assert device.push_requested_at is not None  # pushed at once
    assert _installed_profile(poller.report())["PayloadIdentifier"] == wifi.identifier
    assert desired.held_back([device]) == {}
