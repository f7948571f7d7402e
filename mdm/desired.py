"""The desired configuration of devices (apps, profiles), reconciled at connect time.

A change that reaches devices (a tag on a user, an app or profile assigned or edited) marks
them ``config_due`` in one UPDATE and pushes them: O(devices) rows touched, none created. At the
device's next ``Idle`` each registered source compares what the device should have with what it
reported and what is already queued, and queues the commands that close the gap — inside the
connect transaction, so the first of them goes out in the same answer.

Configuration waits for the terms of use: a device whose user has not accepted them stays due
and is reconciled after the acceptance (mdm.receivers pushes it then).
"""

from collections.abc import Callable

from django.db.models import Q

from .models import Device

# Each source: reconcile(device, now) -> None, queuing what the device lacks. Registered by
# the modules that own the desired state (MdmConfig.ready imports them).
_SOURCES: list[Callable] = []


def source(function: Callable) -> Callable:
    """Decorator: register a reconcile function (once, in import order)."""
    if function not in _SOURCES:
        _SOURCES.append(function)
    return function


# What waits for the terms of use, by kind ("profiles", "apps"): function(devices) ->
# {device id: count}, in a fixed number of queries however many devices (a page of tiles).
_HELD_BACK: dict[str, Callable] = {}


def held_back_counter(kind: str) -> Callable:
    """Decorator: register how many items of ``kind`` devices without accepted terms lack."""

    def register(function: Callable) -> Callable:
        _HELD_BACK[kind] = function
        return function

    return register


def held_back(devices) -> dict[int, dict[str, int]]:
    """What the configuration of each device holds back until its user accepts the terms:
    {device id: {kind: count}}, only for manageable devices whose terms are not accepted."""
    waiting = [d for d in devices if not d.terms_accepted and d.is_manageable]
    if not waiting:
        return {}
    result: dict[int, dict[str, int]] = {d.pk: {} for d in waiting}
    for kind, function in _HELD_BACK.items():
        for pk, count in function(waiting).items():
            result[pk][kind] = count
    return result


def due(device: Device) -> bool:
    return bool(device.config_due and device.terms_accepted and device.is_manageable)


def reconcile(device: Device, now) -> None:
    """Queue what the device lacks of its desired configuration, then mark it done."""
    for function in _SOURCES:
        function(device, now)
    Device.objects.filter(pk=device.pk).update(config_due=False)
    device.config_due = False


def devices_with_tags(tenant, tag_ids):
    """Devices reached by these tags: tagged themselves or through their user."""
    tag_ids = list(tag_ids)
    return Device.objects.filter(tenant_id=getattr(tenant, "pk", tenant)).filter(
        Q(tags__in=tag_ids) | Q(user__tags__in=tag_ids)
    )


def mark_changed(devices) -> list[int]:
    """The desired configuration of these devices (a queryset or ids) changed: mark them due
    and return the manageable ones' ids, for the caller to push after commit
    (``mdm.tasks.push_after_commit``)."""
    queryset = devices if hasattr(devices, "values_list") else Device.objects.filter(pk__in=devices)
    ids = list(
        queryset.filter(status__in=(Device.Status.AUTHENTICATED, Device.Status.ENROLLED))
        .values_list("pk", flat=True)
        .distinct()
    )
    if ids:
        Device.objects.filter(pk__in=ids).update(config_due=True)
    return ids


def mark_tenant_changed(tenant) -> list[int]:
    return mark_changed(Device.objects.filter(tenant=tenant))
