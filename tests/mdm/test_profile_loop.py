"""Over real HTTPS with the simulator: configuration profiles installed, listed, replaced,
refused and removed; the terms gate released by the acceptance; the identity renewed with the
same tile (row, history, tags) while Apple re-enrollment is on."""

from datetime import timedelta

import pytest
from django.utils import timezone

from enrollment import configuration_profiles as cp
from enrollment import terms
from mdm.models import Command, Device, DeviceEvent, DeviceProfile
from tests import factories
from tests.mdm.test_loop import peer  # noqa: F401  (the local APNs peer)
from users.models import Tag

pytestmark = pytest.mark.django_db(transaction=True)

WIFI = {"SSID_STR": "Office", "EncryptionType": "WPA2", "Password": "wifi-secret-1"}


def _set_ssid(profile, ssid):
    payload = profile.payloads.get()
    cp.set_payload_values(payload, {**WIFI, "SSID_STR": ssid})
    payload.save()
    assert cp.record_change(profile)


def _state(device, profile):
    row = DeviceProfile.objects.filter(device=device, identifier=profile.identifier).first()
    return row and row.state


def test_install_list_replace_refuse_remove(peer, make_device, ready_tenant):  # noqa: F811
    tag = Tag.objects.create(tenant=ready_tenant, name="Office")
    wifi = factories.configuration_profile(
        ready_tenant, payloads=[("com.apple.wifi.managed", WIFI)], tags=[tag], name="Office Wi-Fi"
    )
    sim = make_device(accept_terms=True)
    sim.enroll()
    device = Device.objects.get()
    device.tags.add(tag)

    sim.connect()
    assert sim.installed_profiles[wifi.identifier]["PayloadContent"][0]["SSID_STR"] == "Office"
    assert _state(device, wifi) == DeviceProfile.State.INSTALLED

    # ProfileList shows it beside the enrollment profile; the delivery state stays.
    factories.command(device, "ProfileList")
    sim.connect()
    listed = set(DeviceProfile.objects.filter(device=device).values_list("identifier", flat=True))
    assert listed == {wifi.identifier, sim.profile["PayloadIdentifier"]}
    assert _state(device, wifi) == DeviceProfile.State.INSTALLED

    # A new revision replaces the one on the device (same identifier: still one profile).
    _set_ssid(wifi, "Office 5 GHz")
    sim.connect()
    assert sim.installed_profiles[wifi.identifier]["PayloadContent"][0]["SSID_STR"] == (
        "Office 5 GHz"
    )
    assert len(sim.installed_profiles) == 1
    assert DeviceProfile.objects.get(device=device, profile=wifi).installed_revision == 2

    # The device refuses the next one: failed, with its error chain.
    sim.refuse_profiles.add(wifi.identifier)
    _set_ssid(wifi, "Office 6 GHz")
    sim.connect()
    row = DeviceProfile.objects.get(device=device, profile=wifi)
    assert row.state == DeviceProfile.State.FAILED and row.installed_revision == 2
    assert row.error_chain[0]["ErrorDomain"] == "MCProfileErrorDomain"

    # No longer wanted: RemoveProfile, and it is gone from the device and the portal.
    device.tags.remove(tag)
    sim.connect()
    assert wifi.identifier not in sim.installed_profiles
    assert _state(device, wifi) is None


def test_terms_acceptance_releases_the_configuration(peer, make_device, ready_tenant):  # noqa: F811
    tag = Tag.objects.create(tenant=ready_tenant, name="Office")
    wifi = factories.configuration_profile(
        ready_tenant, payloads=[("com.apple.wifi.managed", WIFI)], tags=[tag]
    )
    sim = make_device()  # the terms are not accepted at the web login
    sim.enroll()
    device = Device.objects.get()
    device.tags.add(tag)
    sim.connect()
    assert sim.installed_profiles == {}
    pushes = len(peer.requests)
    terms.accept(device.session, terms.current_terms(ready_tenant))
    assert len(peer.requests) == pushes + 1  # pushed at once
    sim.connect()
    assert wifi.identifier in sim.installed_profiles


def test_identity_renewal_keeps_the_tile(peer, make_device, ready_tenant):  # noqa: F811
    ready_tenant.apple_reenrollment_enabled = True
    ready_tenant.save(update_fields=["apple_reenrollment_enabled"])
    sim = make_device(accept_terms=True)
    sim.enroll()
    device = Device.objects.get()
    tag = Tag.objects.create(tenant=ready_tenant, name="Keep")
    device.tags.add(tag)
    old_print, history = device.identity_fingerprint, device.commands.count()
    # The certificate is about to expire (as far as the portal knows).
    Device.objects.filter(pk=device.pk).update(
        identity_not_after=timezone.now() + timedelta(days=10),
        last_seen_at=timezone.now() - timedelta(hours=1),  # checked at most once a minute
    )

    sim.connect()
    assert sim.renewals == 1
    renewed = Device.objects.get()
    assert renewed.pk == device.pk and renewed.identity_fingerprint != old_print
    assert renewed.identity_not_after > timezone.now() + timedelta(days=300)
    assert renewed.identity_renewal_requested_at is None
    assert renewed.status == Device.Status.ENROLLED
    assert list(renewed.tags.all()) == [tag]
    assert renewed.commands.count() > history  # the history stays, the renewal added to it
    assert DeviceEvent.objects.filter(device=device, kind="identity_renewed").exists()
    renewal = renewed.commands.get(request_type="InstallProfile")
    assert renewal.status == Command.Status.ACKNOWLEDGED

    # The new identity works; nothing more is renewed.
    factories.command(renewed, "SecurityInfo")
    sim.connect()
    assert sim.renewals == 1
    assert renewed.commands.filter(request_type="InstallProfile").count() == 1


def test_old_identity_is_refused_after_the_renewal(peer, make_device, ready_tenant):  # noqa: F811
    ready_tenant.apple_reenrollment_enabled = True
    ready_tenant.save(update_fields=["apple_reenrollment_enabled"])
    sim = make_device(accept_terms=True)
    sim.enroll()
    old = (sim.identity, sim.identity_key)
    Device.objects.update(
        identity_not_after=timezone.now() + timedelta(days=10),
        last_seen_at=timezone.now() - timedelta(hours=1),  # checked at most once a minute
    )
    sim.connect()
    assert sim.renewals == 1
    response = sim.signed_put(
        sim.mdm_payload["ServerURL"],
        {"Status": "Idle", "EnrollmentID": sim.enrollment_id},
        "application/x-apple-aspen-mdm",
        sign_with=old,
    )
    assert response.status_code == 403
