"""The state of catalogue apps on devices (``AppInstallation``), from what the device answers:
InstallApplication's result or error, ManagedApplicationList's Status and the apps
InstalledApplicationList shows. The command classes call these; ``app_delivery`` decides what
to queue.

An app the user installed privately before it was offered cannot become managed on a
user-enrolled device (``ChangeManagementState`` is not allowed there): the device says
``UserInstalledApp`` (as State or Status) or refuses with ``AppAlreadyInstalled`` /
``ManagementChangeNotSupported``. That is shown as *installed privately* and tried again once a
later list no longer shows the app. ``AppAlreadyInstalled`` for an app the device already
lists as managed is success.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from .models import AppInstallation, Command, Device, DeviceApp

Installation = AppInstallation.State

# Stored in English and translated when shown.
PRIVATELY = gettext_noop("Installed privately — the user must remove it first.")
GONE = gettext_noop("The user removed the app.")

# Apple's State / Status values (application.install.yaml, application.managed.list.yaml).
INSTALLED_STATES = {"Managed"}
PRIVATE_STATES = {"UserInstalledApp"}
FAILED_STATES = {
    "Failed": gettext_noop("The installation failed."),
    "UserRejected": gettext_noop("The user declined the installation."),
    "ManagementRejected": gettext_noop("The user declined management of the app."),
    "UpdateRejected": gettext_noop("The user declined the update."),
    "ManagedButUninstalled": GONE,
}
PRIVATE_REASONS = {"AppAlreadyInstalled", "ManagementChangeNotSupported"}
STILL_GOING_REASONS = {"AppAlreadyQueued"}


def state_for(status: str) -> tuple[str, str]:
    """(installation state, error) for Apple's State/Status of one app."""
    if status in INSTALLED_STATES:
        return Installation.INSTALLED, ""
    if status in PRIVATE_STATES:
        return Installation.INSTALLED_PRIVATELY, PRIVATELY
    if status in FAILED_STATES:
        return Installation.FAILED, FAILED_STATES[status]
    return Installation.INSTALLING, ""  # Queued, Prompting…, Validating…, Installing, Unknown


def _installation(device: Device, store_id) -> AppInstallation | None:
    return (
        AppInstallation.objects.filter(device=device, app__adam_id=str(store_id))
        .select_related("app")
        .first()
    )


def _save(installation: AppInstallation, state: str, error: str = "", **fields) -> None:
    installation.state, installation.error = state, error[:300]
    for name, value in fields.items():
        setattr(installation, name, value)
    installation.save(update_fields=["state", "error", "updated_at", *fields])


def _poll_later(device: Device, identifier: str) -> None:
    """Ask for the app's state once the device had time to install it (the push sweep wakes
    devices that have commands waiting)."""
    if Command.objects.filter(
        device=device, request_type="ManagedApplicationList", status__in=Command.OPEN
    ).exists():
        return
    delay = timedelta(seconds=settings.MDM_APP_STATE_POLL_SECONDS)
    Command.objects.create(
        device=device,
        request_type="ManagedApplicationList",
        arguments={"Identifiers": [identifier]},
        requires_terms=False,
        not_before=timezone.now() + delay if delay else None,
    )


def install_answered(device: Device, store_id, identifier: str, state: str) -> None:
    """InstallApplication was acknowledged with ``State``."""
    installation = _installation(device, store_id)
    if installation is None:
        return  # sent by an admin by hand, not from the catalogue
    new_state, error = state_for(state) if state else (Installation.INSTALLING, "")
    _save(installation, new_state, error, identifier=identifier or installation.identifier)
    if new_state == Installation.INSTALLING and installation.identifier:
        _poll_later(device, installation.identifier)


def install_refused(device: Device, store_id, result: dict, chain: list) -> None:
    """InstallApplication was answered with an error."""
    installation = _installation(device, store_id)
    if installation is None:
        return
    reason = str(result.get("RejectionReason") or "")
    identifier = installation.identifier or installation.app.bundle_id
    if reason in PRIVATE_REASONS:
        managed = DeviceApp.objects.filter(
            device=device, identifier=identifier, state="Managed"
        ).exists()
        if managed and reason == "AppAlreadyInstalled":
            _save(installation, Installation.INSTALLED)  # ours already: that is success
        else:
            _save(installation, Installation.INSTALLED_PRIVATELY, PRIVATELY)
        return
    if reason in STILL_GOING_REASONS:
        _save(installation, Installation.INSTALLING)
        return
    described = next(
        (str(e.get("LocalizedDescription")) for e in chain if e.get("LocalizedDescription")), ""
    )
    _save(installation, Installation.FAILED, reason or described or "Error")


def removal_answered(device: Device, identifier: str) -> None:
    """RemoveApplication was answered (done, or refused because the app is gone anyway): the
    installation ends; the device is due again in case the app is wanted back meanwhile."""
    removed = AppInstallation.objects.filter(device=device, state=Installation.REMOVING).filter(
        Q(identifier=identifier) | Q(identifier="", app__bundle_id=identifier)
    )
    if removed.delete()[0]:
        Device.objects.filter(pk=device.pk).update(config_due=True)


def apps_reported(device: Device, states: dict[str, str], *, complete: bool) -> None:
    """A list of the device's managed apps (identifier -> Status, "" when the list has none):
    installations follow it; with a ``complete`` list, an app installed privately that is no
    longer there is tried again, and one of ours the user removed is installed again."""
    retry = []
    for installation in AppInstallation.objects.filter(device=device).select_related("app"):
        identifier = installation.identifier or installation.app.bundle_id
        if not identifier or installation.state == Installation.REMOVING:
            continue
        if identifier in states:
            status = states[identifier]
            new_state, error = state_for(status) if status else (Installation.INSTALLED, "")
            if (new_state, error) != (installation.state, installation.error):
                _save(installation, new_state, error, identifier=identifier)
        elif complete and installation.state in (
            Installation.INSTALLED_PRIVATELY,
            Installation.INSTALLED,
        ):
            retry.append(installation.pk)
    if retry:
        AppInstallation.objects.filter(pk__in=retry).delete()
        Device.objects.filter(pk=device.pk).update(config_due=True)


def versions_reported(device: Device, versions: dict[str, str]) -> None:
    for installation in AppInstallation.objects.filter(device=device).select_related("app"):
        identifier = installation.identifier or installation.app.bundle_id
        version = versions.get(identifier)
        if version is not None and version != installation.version:
            _save(installation, installation.state, installation.error, version=version[:64])
