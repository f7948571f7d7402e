"""What an admin configures on a device tile: its portal name, tags and direct profiles; and
the bulk tag actions of the device list. Used by the pages and the API alike.

Changed tags and direct profiles mark the device due through the m2m receivers
(mdm.receivers); a new name does so here ($DEVICE_NAME may be in a profile). The callers push
the returned device ids after commit (``mdm.tasks.push_after_commit``).
"""

from django.db import transaction

from enrollment import configuration_profiles
from users.audit import record
from users.models import Tag
from users.tags import get_or_create_tag, tags_for_names

from . import desired
from .models import Device

MAX_NAME = Device._meta.get_field("name").max_length


def tenant_profiles(tenant):
    """The configuration profiles that can be assigned to the tenant's devices."""
    return configuration_profiles.configuration_profiles(tenant).order_by("name")


@transaction.atomic
def update_device(device: Device, *, account, name=None, tag_names=None, profiles=None) -> list:
    """Change what is given (None: unchanged). ``profiles`` must be the tenant's configuration
    profiles (the form and the serializer choose from ``tenant_profiles``). Returns the ids to
    push."""
    changed = []
    due = []
    if name is not None and name.strip() != device.name:
        device.name = name.strip()[:MAX_NAME]
        Device.objects.filter(pk=device.pk).update(name=device.name)
        due = desired.mark_changed([device.pk])
        changed.append("name")
    if tag_names is not None:
        tags = tags_for_names(device.tenant, tag_names)
        if {t.pk for t in tags} != set(device.tags.values_list("pk", flat=True)):
            device.tags.set(tags)  # the receiver marks the device due and pushes
            changed.append("tags")
    if profiles is not None:
        wanted = {p.pk for p in profiles}
        if wanted != set(device.direct_profiles.values_list("pk", flat=True)):
            device.direct_profiles.set(profiles)
            changed.append("profiles")
    if changed:
        record(account, "device.updated", device, changed=changed)
    return due


@transaction.atomic
def add_tag(devices, name: str, *, account) -> list[int]:
    """Tag the devices (one INSERT); returns the ids to push."""
    devices = list(devices)
    if not devices:
        return []
    tag = get_or_create_tag(devices[0].tenant, name)
    Through = Device.tags.through
    Through.objects.bulk_create(
        [Through(device_id=d.pk, tag_id=tag.pk) for d in devices], ignore_conflicts=True
    )
    record(account, "devices.tag_added", tag, devices=len(devices))
    return desired.mark_changed([d.pk for d in devices])


@transaction.atomic
def remove_tag(devices, name: str, *, account) -> list[int]:
    """Take the tag (matched regardless of case) off the devices; returns the ids to push."""
    devices = list(devices)
    if not devices:
        return []
    tag = Tag.objects.filter(tenant=devices[0].tenant, name__iexact=name.strip()).first()
    if tag is None:
        return []
    removed, _ = Device.tags.through.objects.filter(
        tag=tag, device_id__in=[d.pk for d in devices]
    ).delete()
    record(account, "devices.tag_removed", tag, devices=removed)
    return desired.mark_changed([d.pk for d in devices]) if removed else []
