"""Self-service for end users: which apps a managed user may install themselves, on which of
their devices, and asking for one (the licence request that makes it theirs, a reason of its
own to hold the app in ``mdm.app_reach``).

An app marked *available* is offered to every user when it has no tags, else to the users who
carry one of its tags (themselves or on one of their devices)."""

from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from . import desired
from .app_reach import MANAGEABLE
from .models import App, AppInstallation, Device, Licence


class NotOffered(LookupError):
    """The app or device is not the user's to choose (the page never offers it)."""


def devices_of(user):
    return Device.objects.filter(tenant_id=user.tenant_id, user=user, status__in=MANAGEABLE)


def offered_apps(user):
    """Apps made available with no tags, or with a tag of the user's or of their devices'."""
    tag_ids = list(user.tags.values_list("pk", flat=True)) + list(
        Device.tags.through.objects.filter(device__user=user).values_list("tag_id", flat=True)
    )
    return (
        App.objects.filter(tenant_id=user.tenant_id, install_mode=App.InstallMode.AVAILABLE)
        .filter(Q(tags=None) | Q(tags__in=tag_ids))
        .distinct()
        .order_by("name", "adam_id")
    )


def request(app: App, user) -> Licence:
    """The user asked for an offered app: a reason of its own to hold it, and so to have it on
    their devices. The caller runs the licence task for the app after commit; ``NotOffered``
    for an app not offered to the user."""
    if not user.is_active or not offered_apps(user).filter(pk=app.pk).exists():
        raise NotOffered(app.pk)
    licence, created = Licence.objects.get_or_create(
        app=app, user=user, defaults={"tenant_id": app.tenant_id, "requested": True}
    )
    if not created and not licence.requested:
        Licence.objects.filter(pk=licence.pk).update(requested=True, updated_at=timezone.now())
        licence.requested = True
    return licence


def withdraw(app: App, user) -> None:
    """The user's own reason to hold the app goes (others may stand)."""
    Licence.objects.filter(app=app, user=user).update(requested=False, updated_at=timezone.now())


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
    to hold the app, ``request``), and the device is due to reconcile. Returns the app,
    the device and the device ids; the caller pushes them and runs the licences after commit."""
    app = offered_apps(user).filter(pk=app_id).first() if str(app_id).isdigit() else None
    device = devices_of(user).filter(pk=device_id).first() if str(device_id).isdigit() else None
    if app is None or device is None:
        raise NotOffered
    request(app, user)
    return app, device, desired.mark_changed([device.pk])
