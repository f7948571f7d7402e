"""Apps onto devices (mdm.app_delivery, mdm.app_installations) through the command loop
(Poller): InstallApplication once the licence is assigned, states from the answers,
installed privately, RemoveApplication when the app leaves the device's desired set."""

import pytest

from mdm import desired
from mdm.models import AppInstallation, Command, Device, Licence
from tests import factories
from tests.mdm.conftest import Poller
from users.models import Tag

pytestmark = pytest.mark.django_db

Installation = AppInstallation.State
BUNDLE = "com.example.notes"


@pytest.fixture(autouse=True)
def _poll_at_once(settings):
    settings.MDM_APP_STATE_POLL_SECONDS = 0


@pytest.fixture
def world(tenant):
    user = factories.managed_user(tenant, username="alice")
    device = factories.device(tenant, user=user)
    app = factories.app(tenant, adam_id="361304891", bundle_id=BUNDLE)
    tag = Tag.objects.create(tenant=tenant, name="Sales")
    app.tags.add(tag)
    user.tags.add(tag)
    return user, device, app, tag


def _licence(app, user, state=Licence.State.ASSIGNED):
    return Licence.objects.create(tenant=app.tenant, app=app, user=user, state=state)


def _due(device):
    Device.objects.filter(pk=device.pk).update(config_due=True)
    device.config_due = True


def _installation(device):
    return AppInstallation.objects.get(device=device)


def _command(envelope):
    return envelope["Command"]


def test_install_waits_for_the_licence_then_goes_out_with_purchase_method_1(world):
    user, device, app, _tag = world
    app.configuration = {"user": "$USERNAME", "mail": "$EMAIL", "nested": ["$MANAGED_APPLE_ID"]}
    app.prevent_backup = True
    app.save()
    poller = Poller(device)
    _due(device)
    assert not isinstance(poller.report(), dict)  # no licence yet: nothing to send
    assert not AppInstallation.objects.exists()

    _licence(app, user)
    _due(device)
    envelope = poller.report()
    assert _command(envelope) == {
        "RequestType": "InstallApplication",
        "iTunesStoreID": 361304891,
        "ManagementFlags": 5,
        "Options": {"PurchaseMethod": 1},
        "Configuration": {
            "user": "alice",
            "mail": "alice@example.com",
            "nested": ["alice@example.appleid.com"],
        },
    }
    assert _installation(device).state == Installation.QUEUED

    follow_up = poller.answer(envelope, Identifier=BUNDLE, State="Installing")
    installation = _installation(device)
    assert (installation.state, installation.identifier) == (Installation.INSTALLING, BUNDLE)
    assert _command(follow_up) == {
        "RequestType": "ManagedApplicationList",
        "Identifiers": [BUNDLE],
    }
    poller.answer(follow_up, ManagedApplicationList={BUNDLE: {"Status": "Managed"}})
    assert _installation(device).state == Installation.INSTALLED

    _due(device)
    assert not isinstance(poller.report(), dict)  # installed: nothing queued again


def test_leaving_the_desired_set_removes_the_app(world):
    user, device, app, tag = world
    _licence(app, user)
    poller = Poller(device)
    _due(device)
    envelope = poller.report()
    poller.answer(envelope, Identifier=BUNDLE, State="Managed")
    assert _installation(device).state == Installation.INSTALLED

    user.tags.remove(tag)  # the tag receiver marks the device due
    envelope = poller.report()
    assert _command(envelope) == {"RequestType": "RemoveApplication", "Identifier": BUNDLE}
    assert _installation(device).state == Installation.REMOVING
    poller.answer(envelope)
    assert not AppInstallation.objects.exists()


def test_an_install_never_sent_is_taken_back_instead_of_removed(world):
    user, device, app, tag = world
    _licence(app, user)
    desired.reconcile(device, None)
    installation = _installation(device)
    assert installation.command.status == Command.Status.QUEUED
    user.tags.remove(tag)
    desired.reconcile(device, None)
    assert not AppInstallation.objects.exists()
    assert Command.objects.get().status == Command.Status.CANCELED
    assert not Command.objects.filter(request_type="RemoveApplication").exists()


def test_an_app_installed_privately_is_shown_and_tried_again_once_gone(world):
    user, device, app, _tag = world
    _licence(app, user)
    poller = Poller(device)
    _due(device)
    envelope = poller.report()
    poller.answer(
        envelope,
        status="Error",
        RejectionReason="AppAlreadyInstalled",
        ErrorChain=[{"ErrorCode": 12036, "ErrorDomain": "MCMDMErrorDomain"}],
    )
    installation = _installation(device)
    assert installation.state == Installation.INSTALLED_PRIVATELY
    assert installation.error == "Installed privately — the user must remove it first."

    # A later inventory no longer shows the app (the user deleted it): try again.
    inventory = factories.command(device, "InstalledApplicationList", {"ManagedAppsOnly": True})
    Command.objects.filter(pk=inventory.pk).update(status=Command.Status.SENT)
    poller.report(
        "Acknowledged", CommandUUID=str(inventory.uuid).upper(), InstalledApplicationList=[]
    )
    assert not AppInstallation.objects.exists()
    envelope = poller.report()
    assert _command(envelope)["RequestType"] == "InstallApplication"
    poller.answer(envelope, Identifier=BUNDLE, State="Managed")
    assert _installation(device).state == Installation.INSTALLED


def test_managed_application_list_reports_user_installed_app(world):
    user, device, app, _tag = world
    _licence(app, user)
    poller = Poller(device)
    _due(device)
    envelope = poller.report()
    follow_up = poller.answer(envelope, Identifier=BUNDLE, State="Queued")
    poller.answer(follow_up, ManagedApplicationList={BUNDLE: {"Status": "UserInstalledApp"}})
    assert _installation(device).state == Installation.INSTALLED_PRIVATELY


def test_already_installed_and_managed_counts_as_success(world):
    user, device, app, _tag = world
    _licence(app, user)
    device.apps.create(identifier=BUNDLE, state="Managed")
    poller = Poller(device)
    _due(device)
    envelope = poller.report()
    poller.answer(envelope, status="Error", RejectionReason="AppAlreadyInstalled")
    assert _installation(device).state == Installation.INSTALLED


def test_other_refusals_are_failures_with_the_reason(world):
    user, device, app, _tag = world
    _licence(app, user)
    poller = Poller(device)
    _due(device)
    envelope = poller.report()
    poller.answer(
        envelope,
        status="Error",
        ErrorChain=[{"ErrorCode": 1, "LocalizedDescription": "The App Store is not available."}],
    )
    installation = _installation(device)
    assert installation.state == Installation.FAILED
    assert installation.error == "The App Store is not available."


def test_direct_and_self_service_apps_reach_the_device(tenant):
    user = factories.managed_user(tenant)
    device = factories.device(tenant, user=user)
    direct = factories.app(tenant, install_mode="available")
    requested = factories.app(tenant, install_mode="available")
    tagged_available = factories.app(tenant, install_mode="available")
    tag = Tag.objects.create(tenant=tenant, name="Sales")
    tagged_available.tags.add(tag)
    user.tags.add(tag)  # available apps are offered, not installed, by tag
    direct.devices.add(device)
    Licence.objects.create(tenant=tenant, app=requested, user=user, requested=True)
    for app in (direct, requested, tagged_available):
        Licence.objects.update_or_create(
            app=app, user=user, defaults={"tenant": tenant, "state": Licence.State.ASSIGNED}
        )
    desired.reconcile(device, None)
    installed = set(AppInstallation.objects.values_list("app_id", flat=True))
    assert installed == {direct.pk, requested.pk}


def test_a_tag_for_many_devices_stores_no_rows_up_front(tenant):
    app = factories.app(tenant)
    tag = Tag.objects.create(tenant=tenant, name="Everyone")
    app.tags.add(tag)
    users = [factories.managed_user(tenant) for _ in range(20)]
    for user in users:
        factories.device(tenant, user=user)
    tag.users.add(*users)
    assert Device.objects.filter(config_due=True).count() == 20
    assert AppInstallation.objects.count() == Command.objects.count() == 0
