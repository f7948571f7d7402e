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

from users import variables
from users.models import ManagedUser, Tag

from . import desired, queue
from .app_installations import install_arguments
from .commands import CommandError
from .commands.applications import InstallApplication, RemoveApplication
from .models import App, AppInstallation, Command, Licence

Installation = AppInstallation.State
# Ours on the device (or on its way there): removed when no longer wanted.
OURS = (Installation.QUEUED, Installation.INSTALLING, Installation.INSTALLED)


def desired_apps(device) -> dict[int, App]:
    """One query: each reason a subquery over its through table (no OR across joins, so a tag
    with thousands of users does not make one device's lookup read thousands of rows)."""
    tag_ids = Tag.devices.through.objects.filter(device_id=device.pk).values("tag_id")
    reasons = Q(pk__in=App.devices.through.objects.filter(device_id=device.pk).values("app_id"))
    if device.user_id:
        user_tag_ids = ManagedUser.tags.through.objects.filter(
            manageduser_id=device.user_id
        ).values("tag_id")
        tag_ids = tag_ids.union(user_tag_ids)
        reasons |= Q(
            pk__in=Licence.objects.filter(user_id=device.user_id, requested=True)
            .order_by()
            .values("app_id")
        )
    reasons |= Q(
        install_mode=App.InstallMode.AUTOMATIC,
        pk__in=App.tags.through.objects.filter(tag_id__in=tag_ids).values("app_id"),
    )
    apps = App.objects.filter(tenant_id=device.tenant_id).filter(reasons).order_by()
    return {app.pk: app for app in apps}


def _install(device, app: App, installation: AppInstallation | None) -> None:
    try:
        command = queue.enqueue(device, InstallApplication(install_arguments(app)))
        state, error = Installation.QUEUED, ""
    except CommandError as exc:  # e.g. a configuration Apple's schema refuses
        command, state, error = None, Installation.FAILED, str(exc)[:300]
    if installation is None:
        AppInstallation.objects.create(
            tenant_id=device.tenant_id,
            device=device,
            app=app,
            state=state,
            error=error,
            command=command,
        )
        return
    installation.state, installation.error, installation.command = state, error, command
    installation.save(update_fields=["state", "error", "command", "updated_at"])


def resend(installations) -> list[int]:
    """InstallApplication again for those of ``installations`` (a queryset) that are installed
    or installing on a manageable device: new flags or configuration values reach the app.
    Returns the devices to push."""
    pushed = []
    for installation in installations.filter(
        state__in=(Installation.INSTALLED, Installation.INSTALLING)
    ).select_related("device", "app"):
        if installation.device.is_manageable:
            installation.command = queue.enqueue(
                installation.device, InstallApplication(install_arguments(installation.app))
            )
            installation.state = Installation.QUEUED
            installation.save(update_fields=["command", "state", "updated_at"])
            pushed.append(installation.device_id)
    return pushed


def resend_for_details(changes: dict) -> list[int]:
    """Managed users' changed details ({user id: field names}): the apps on their devices whose
    configuration shows a changed value ($EMAIL, ...) go out again, filled in anew. Returns the
    devices to push."""
    apps_by_user: dict[int, list[int]] = {}
    installations = AppInstallation.objects.filter(device__user_id__in=list(changes))
    configurations = dict(
        App.objects.filter(pk__in=installations.values("app_id")).values_list("pk", "configuration")
    )
    for user_id, app_id in installations.values_list("device__user_id", "app_id").distinct():
        filled = {variables.FILLED_BY.get(name) for name in changes[user_id]}
        if filled & variables.used_variables(configurations.get(app_id) or {}):
            apps_by_user.setdefault(user_id, []).append(app_id)
    pushed = []
    for user_id, app_ids in apps_by_user.items():
        pushed += resend(installations.filter(device__user_id=user_id, app_id__in=app_ids))
    return pushed


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
        for i in AppInstallation.objects.filter(device=device)
        .select_related("app", "command")
        .order_by()
    }
    licensed = set()
    if device.user_id and wanted:
        licensed = set(
            Licence.objects.filter(
                user_id=device.user_id, app_id__in=list(wanted), state=Licence.State.ASSIGNED
            )
            .order_by()
            .values_list("app_id", flat=True)
        )
    for app_id, app in wanted.items():
        installation = installations.get(app_id)
        if app_id not in licensed:
            continue  # the licence's settlement marks the device due again
        if installation is None or installation.state == Installation.FAILED:
            _install(device, app, installation)
    for app_id, installation in installations.items():
        if app_id in wanted:
            continue
        if installation.state in OURS:
            _remove(device, installation)
        elif installation.state in (Installation.FAILED, Installation.INSTALLED_PRIVATELY):
            installation.delete()  # never ours on the device: nothing to remove
