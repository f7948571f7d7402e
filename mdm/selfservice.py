"""Self-service for end users: which apps a managed user may install themselves, on which of
their devices, and asking for one (the licence request that makes it theirs).

An app marked *available* is offered to every user when it has no tags, else to the users who
carry one of its tags (themselves or on one of their devices)."""

from dataclasses import dataclass, field

from django.db.models import Q

from . import desired, licences
from .licences import MANAGEABLE
from .models import App, AppInstallation, Device, Licence


class NotOffered(Exception):
    """The app or device is not the user's to choose (the page never offers it)."""


def devices_of(user):
    return Device.objects.filter(tenant_id=user.tenant_id, user=user, status__in=MANAGEABLE)


def offered_apps(user):
    tag_ids = list(user.tags.values_list("pk", flat=True)) + list(
        Device.tags.through.objects.filter(device__user=user).values_list("tag_id", flat=True)
    )
    return (
        App.objects.filter(tenant_id=user.tenant_id, install_mode=App.InstallMode.AVAILABLE)
        .filter(Q(tags=None) | Q(tags__in=tag_ids))
        .distinct()
        .order_by("name", "adam_id")
    )


@dataclass
class OfferedApp:
    app: App
    licence: Licence | None
    # device id -> its installation of the app
    installations: dict = field(default_factory=dict)


def overview(user) -> tuple[list[Device], list[OfferedApp]]:
    """The user's devices and the apps offered to them with the state of each."""
    devices = list(devices_of(user).order_by("-last_seen_at", "pk"))
    apps = list(offered_apps(user))
    licences = {
        licence.app_id: licence for licence in Licence.objects.filter(user=user, app__in=apps)
    }
    offered = [OfferedApp(app, licences.get(app.pk)) for app in apps]
    by_app = {item.app.pk: item for item in offered}
    for installation in AppInstallation.objects.filter(device__in=devices, app__in=apps):
        by_app[installation.app_id].installations[installation.device_id] = installation
    for item in offered:
        item.rows = [(device, item.installations.get(device.pk)) for device in devices]
    return devices, offered


def request_install(user, app_id, device_id) -> tuple[App, Device, list[int]]:
    """The user asks for ``app_id`` on ``device_id``: a licence request of their own (a reason
    to hold the app, ``licences.request``), and the device is due to reconcile. Returns the app,
    the device and the device ids; the caller pushes them and runs the licences after commit."""
    app = offered_apps(user).filter(pk=app_id).first() if str(app_id).isdigit() else None
    device = devices_of(user).filter(pk=device_id).first() if str(device_id).isdigit() else None
    if app is None or device is None:
        raise NotOffered
    licences.request(app, user)
    return app, device, desired.mark_changed([device.pk])
