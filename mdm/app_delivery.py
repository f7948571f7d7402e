"""Catalogue apps onto devices: the ``mdm.desired`` source for apps.

A device should have the apps installed automatically whose tags are the device's or its
user's, the apps assigned to it directly, and the apps its user asked for (self-service).
``InstallApplication`` (iTunesStoreID, PurchaseMethod 1, the app's management flags and
configuration) is queued only once the user's licence is assigned (the licence job's
settlement marks the user's devices due); ``RemoveApplication`` when an app we installed
leaves the set. Rows (``AppInstallation``) appear only when a command is queued, never for
devices × apps up front.
"""

from django.db.models import Q

from users.models import Tag

from . import desired, queue
from .commands import CommandError
from .commands.applications import InstallApplication, RemoveApplication
from .models import App, AppInstallation, Command, Licence

Installation = AppInstallation.State
# Ours on the device (or on its way there): removed when no longer wanted.
OURS = (Installation.QUEUED, Installation.INSTALLING, Installation.INSTALLED)


def desired_apps(device) -> dict[int, App]:
    tags = (
        Tag.objects.filter(Q(devices=device) | Q(users=device.user_id))
        if device.user_id
        else (Tag.objects.filter(devices=device))
    )
    wanted = Q(devices=device) | Q(install_mode=App.InstallMode.AUTOMATIC, tags__in=tags)
    if device.user_id:
        wanted |= Q(licences__user_id=device.user_id, licences__requested=True)
    apps = App.objects.filter(tenant_id=device.tenant_id).filter(wanted).distinct()
    return {app.pk: app for app in apps}


def install_arguments(app: App) -> dict:
    arguments = {
        "iTunesStoreID": int(app.adam_id),
        "ManagementFlags": app.management_flags,
        "Options": {"PurchaseMethod": 1},
    }
    if app.configuration:
        arguments["Configuration"] = app.configuration
    return arguments


def _install(device, app: App, installation: AppInstallation | None, now) -> None:
    try:
        command = queue.enqueue(device, InstallApplication(install_arguments(app)))
    except CommandError as exc:  # e.g. a configuration Apple's schema refuses
        AppInstallation.objects.update_or_create(
            device=device,
            app=app,
            defaults={
                "tenant_id": device.tenant_id,
                "state": Installation.FAILED,
                "error": str(exc)[:300],
            },
        )
        return
    AppInstallation.objects.update_or_create(
        device=device,
        app=app,
        defaults={
            "tenant_id": device.tenant_id,
            "state": Installation.QUEUED,
            "error": "",
            "command": command,
        },
    )


def _remove(device, installation: AppInstallation) -> None:
    command = installation.command
    if (
        installation.state == Installation.QUEUED
        and command is not None
        and command.status == Command.Status.QUEUED
    ):
        # Never sent: take it back instead of removing what never came.
        Command.objects.filter(pk=command.pk, status=Command.Status.QUEUED).update(
            status=Command.Status.CANCELED
        )
        installation.delete()
        return
    identifier = installation.identifier or installation.app.bundle_id
    if not identifier:
        installation.delete()  # nothing to name in RemoveApplication; the device keeps it
        return
    removal = queue.enqueue(device, RemoveApplication({"Identifier": identifier}))
    installation.state, installation.command, installation.error = (
        Installation.REMOVING,
        removal,
        "",
    )
    installation.save(update_fields=["state", "command", "error", "updated_at"])


@desired.source
def reconcile(device, now) -> None:
    wanted = desired_apps(device)
    installations = {
        i.app_id: i
        for i in AppInstallation.objects.filter(device=device).select_related("app", "command")
    }
    licensed = set()
    if device.user_id and wanted:
        licensed = set(
            Licence.objects.filter(
                user_id=device.user_id, app_id__in=list(wanted), state=Licence.State.ASSIGNED
            ).values_list("app_id", flat=True)
        )
    for app_id, app in wanted.items():
        installation = installations.get(app_id)
        if app_id not in licensed:
            continue  # the licence's settlement marks the device due again
        if installation is None or installation.state == Installation.FAILED:
            _install(device, app, installation, now)
    for app_id, installation in installations.items():
        if app_id in wanted:
            continue
        if installation.state in OURS:
            _remove(device, installation)
        elif installation.state in (Installation.FAILED, Installation.INSTALLED_PRIVATELY):
            installation.delete()  # never ours on the device: nothing to remove
