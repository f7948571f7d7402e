"""End to end over real HTTPS with the simulator, the local APNs peer and the fake Apps and
Books server: tag an app and a user → licence associated to the user's managed Apple ID →
notification → push → the device gets InstallApplication (PurchaseMethod 1) → installed;
untag → RemoveApplication and disassociation."""

import hashlib

import pytest
from django.urls import reverse

from apple.models import VppUser
from enrollment import terms
from mdm import tasks
from mdm.models import AppInstallation, Device, Licence
from tests import factories
from tests.mdm.test_loop import peer, wait_for  # noqa: F401  (fixture)
from users.models import Tag

pytestmark = pytest.mark.django_db(transaction=True)

ADAM_ID = "361304891"
BUNDLE = "com.example.notes"
SECRET = "notification-secret"


def _requests(sim, request_type):
    return [
        e["Command"] for e in sim.commands_answered if e["Command"]["RequestType"] == request_type
    ]


def test_tag_to_installed_and_back(
    peer,  # noqa: F811
    make_device,
    fake_vpp,
    ready_tenant,
    managed_user,
    settings,
    client,
):
    settings.MDM_APP_STATE_POLL_SECONDS = 0
    tenant = ready_tenant
    sim = make_device()
    sim.store[int(ADAM_ID)] = BUNDLE
    sim.enroll()
    device = Device.objects.get()
    terms.accept(device.session, terms.current_terms(tenant))
    sim.connect()

    token = factories.vpp_token(
        tenant, fake=fake_vpp, notification_token_hash=hashlib.sha256(SECRET.encode()).hexdigest()
    )
    app = factories.app(tenant, asset=factories.vpp_asset(token, ADAM_ID), bundle_id=BUNDLE)
    tag = Tag.objects.create(tenant=tenant, name="Field staff")
    app.tags.add(tag)
    pushes = len(peer.requests)
    managed_user.tags.add(tag)  # → licence task after commit (eager here)

    vpp_user = VppUser.objects.get(user=managed_user)
    assert fake_vpp.user(vpp_user.client_user_id)["managedAppleId"] == managed_user.managed_apple_id
    assert fake_vpp.holders(ADAM_ID) == {vpp_user.client_user_id}
    assert Licence.objects.get().state == Licence.State.ASSOCIATING

    # Apple's notification settles the job; the user's device is pushed.
    (event_id,) = [e for e, v in fake_vpp.events.items() if v["eventType"] == "ASSOCIATE"]
    response = client.post(
        reverse("apple-vpp-notifications", args=[token.mdm_id]),
        fake_vpp.notification(event_id),
        content_type="application/json",
        headers={"Authorization": f"Bearer {SECRET}"},
    )
    assert response.status_code == 200
    assert Licence.objects.get().state == Licence.State.ASSIGNED
    assert wait_for(lambda: len(peer.requests) > pushes)

    sim.connect()  # the device wakes for the push
    (install,) = _requests(sim, "InstallApplication")
    assert install["iTunesStoreID"] == int(ADAM_ID)
    assert install["Options"] == {"PurchaseMethod": 1}
    assert install["ManagementFlags"] == 1
    assert BUNDLE in sim.apps
    installation = AppInstallation.objects.get()
    assert (installation.state, installation.identifier) == ("installed", BUNDLE)

    managed_user.tags.remove(tag)  # → RemoveApplication at the next connect, licence released
    sim.connect()
    assert _requests(sim, "RemoveApplication") == [
        {"RequestType": "RemoveApplication", "Identifier": BUNDLE}
    ]
    assert BUNDLE not in sim.apps and not AppInstallation.objects.exists()
    assert fake_vpp.holders(ADAM_ID) == set()
    tasks.follow_licence_jobs()  # no notification this time: the beat asks Apple
    assert not Licence.objects.exists()
    assert fake_vpp.duplicate_associations == 0


def test_installed_privately_then_removed_by_the_user(
    make_device, fake_vpp, ready_tenant, managed_user, settings
):
    settings.MDM_APP_STATE_POLL_SECONDS = 0
    tenant = ready_tenant
    sim = make_device()
    sim.store[int(ADAM_ID)] = BUNDLE
    sim.private_apps.add(BUNDLE)
    sim.enroll()
    device = Device.objects.get()
    terms.accept(device.session, terms.current_terms(tenant))
    token = factories.vpp_token(tenant, fake=fake_vpp)
    app = factories.app(tenant, asset=factories.vpp_asset(token, ADAM_ID), bundle_id=BUNDLE)
    app.devices.add(device)  # assigned directly
    tasks.follow_licence_jobs()
    sim.connect()
    installation = AppInstallation.objects.get()
    assert installation.state == AppInstallation.State.INSTALLED_PRIVATELY
    assert "user must remove it first" in installation.error

    sim.private_apps.discard(BUNDLE)  # the user deletes their own copy
    device.commands.create(
        request_type="InstalledApplicationList",
        arguments={"ManagedAppsOnly": True},
        requires_terms=False,
    )
    sim.connect()  # the inventory no longer shows it: installed again, managed this time
    assert len(_requests(sim, "InstallApplication")) == 2
    assert AppInstallation.objects.get().state == AppInstallation.State.INSTALLED
