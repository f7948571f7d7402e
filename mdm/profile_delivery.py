"""Configuration profiles on devices: what each device should have, and the commands that get it
there (a ``mdm.desired`` source, run at the device's Idle connect).

A device should have the configuration profiles of its own tags and of its user's tags, and
those assigned to it directly (``Device.direct_profiles``). For each it gets ``InstallProfile``
(signed, with the variables replaced for its user and name) when it lacks it or has another
version; a profile the portal installed and the device should no longer have gets
``RemoveProfile``. ``DeviceProfile`` rows carry the state per device and profile (queued,
installed, failed with the device's error chain, removing) and are written only here, at
connect time, and by the answers: a change that reaches 10,000 devices stores no row up front.

What is compared is a hash of what the device would get: the profile's ``content_hash`` and
the values of the variables the profile uses, so renaming a user reinstalls only the profiles
that show the name (``devices_showing``: the devices a user's changed details make due).
"""

import hashlib
import json
import logging
import re
from types import SimpleNamespace

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from enrollment import configuration_profiles
from enrollment.models import Profile
from users import variables as profile_variables
from users.models import ManagedUser

from . import desired
from .commands.base import data_text
from .models import Command, Device, DeviceProfile

log = logging.getLogger("mdm.profile_delivery")

State = DeviceProfile.State
_VARIABLE = re.compile(r"\$([A-Z][A-Z0-9_]*)")
# What the answer still may be: a row whose command is waiting can be dropped with it.
_CANCELABLE = (Command.Status.QUEUED, Command.Status.NOT_NOW)


def wanted_profiles(device: Device):
    """The configuration profiles the device should have (one query when evaluated)."""
    device_tags = Device.tags.through.objects.filter(device_id=device.pk).values("tag_id")
    user_tags = ManagedUser.tags.through.objects.filter(manageduser_id=device.user_id).values(
        "tag_id"
    )
    tagged = Profile.tags.through.objects.filter(
        Q(tag_id__in=device_tags) | Q(tag_id__in=user_tags)
    ).values("profile_id")
    direct = Device.direct_profiles.through.objects.filter(device_id=device.pk).values("profile_id")
    return Profile.objects.filter(
        tenant_id=device.tenant_id, kind=Profile.Kind.CONFIGURATION
    ).filter(Q(pk__in=tagged) | Q(pk__in=direct))


def devices_reached(profile: Profile):
    """Devices that should have the profile or have a delivery row of it (for its removal)."""
    tag_ids = list(profile.tags.values_list("pk", flat=True))
    return Device.objects.filter(tenant_id=profile.tenant_id).filter(
        Q(pk__in=desired.devices_with_tags(profile.tenant_id, tag_ids).values("pk"))
        | Q(pk__in=Device.direct_profiles.through.objects.filter(profile=profile).values("device"))
        | Q(pk__in=DeviceProfile.objects.filter(profile=profile).values("device"))
    )


def variables_of(device: Device) -> dict:
    """The variables' values for the device (one query)."""
    row = (
        Device.objects.filter(pk=device.pk)
        .values(
            "name",
            "device_name",
            "user__username",
            "user__email",
            "user__managed_apple_id",
            "user__first_name",
            "user__last_name",
        )
        .first()
    )
    if row is None or row["user__username"] is None:
        return dict.fromkeys(profile_variables.VARIABLES, "")
    user = SimpleNamespace(**{k[6:]: v or "" for k, v in row.items() if k.startswith("user__")})
    return profile_variables.variables_for(user, row["name"] or row["device_name"])


def _used_variables(profile: Profile) -> list[str]:
    texts = [profile.name, profile.description, profile.organization]
    texts += [json.dumps(payload.values) for payload in profile.payloads.all()]
    found = {name for text in texts for name in _VARIABLE.findall(text or "")}
    return sorted(found & set(profile_variables.VARIABLES))


def devices_showing(changes: dict):
    """Devices of users whose changed details ({user id: field names}) fill a variable some
    configuration profile of their tenant uses: their delivery hash may differ now. A query
    over the tenants' profiles, none over devices x profiles."""
    tenants: dict[int, list[int]] = {}
    for pk, tenant_id in ManagedUser.objects.filter(pk__in=list(changes)).values_list(
        "pk", "tenant_id"
    ):
        tenants.setdefault(tenant_id, []).append(pk)
    used: dict[int, set] = {tenant_id: set() for tenant_id in tenants}
    for profile in Profile.objects.filter(
        tenant_id__in=list(tenants), kind=Profile.Kind.CONFIGURATION
    ).prefetch_related("payloads"):
        used[profile.tenant_id].update(_used_variables(profile))
    user_ids = [
        pk
        for tenant_id, pks in tenants.items()
        for pk in pks
        if {profile_variables.FILLED_BY.get(name) for name in changes[pk]} & used[tenant_id]
    ]
    return Device.objects.filter(user_id__in=user_ids)


def delivery_hash(profile: Profile, variables: dict) -> str:
    """Equal iff the device would get the same profile (content and variables used)."""
    used = {name: variables.get(name, "") for name in _used_variables(profile)}
    text = f"{profile.content_hash}\0{json.dumps(used, sort_keys=True)}"
    return hashlib.sha256(text.encode()).hexdigest()


def _cancel(row: DeviceProfile) -> bool:
    """Cancel the row's command if the device has not got it yet."""
    if row.command_uuid is None:
        return True
    return bool(
        Command.objects.filter(
            device_id=row.device_id, uuid=row.command_uuid, status__in=_CANCELABLE
        ).update(status=Command.Status.CANCELED)
    )


def _install(device: Device, profile: Profile, variables: dict, digest: str, row) -> None:
    if row is None:
        row = DeviceProfile(device=device, identifier=profile.identifier)
    elif row.delivered and row.state in (State.QUEUED, State.REMOVING):
        _cancel(row)  # an older version, or its removal, not handed out yet gives way
    row.profile = profile
    row.display_name = row.display_name or profile.name
    row.queued_hash, row.queued_revision = digest, profile.revision
    try:
        data = configuration_profiles.render_configuration_profile(profile, variables)
    except configuration_profiles.InvalidProfile as exc:
        # Not sent; stays failed until the profile changes (a new hash).
        log.warning("profile %s not valid for device %s: %s", profile.pk, device.pk, exc)
        row.state, row.command_uuid = State.FAILED, None
        row.error_chain = [{"ErrorDomain": "portal", "LocalizedDescription": str(exc)[:500]}]
        row.save()
        return
    command = Command.objects.create(
        device=device,
        request_type="InstallProfile",
        arguments={"Payload": data_text(data)},
        requires_terms=True,
    )
    row.state, row.command_uuid, row.error_chain = State.QUEUED, command.uuid, []
    row.save()


def _remove(device: Device, row: DeviceProfile) -> None:
    if not row.installed_hash and row.state in (State.QUEUED, State.FAILED) and _cancel(row):
        row.delete()  # never reached the device
        return
    command = Command.objects.create(
        device=device,
        request_type="RemoveProfile",
        arguments={"Identifier": row.identifier},
        requires_terms=True,
    )
    row.state, row.command_uuid, row.error_chain = State.REMOVING, command.uuid, []
    row.save(update_fields=["state", "command_uuid", "error_chain", "updated_at"])


@desired.source
def reconcile(device: Device, now) -> None:
    """Queue InstallProfile for what the device lacks, RemoveProfile for what it should not have."""
    wanted = list(wanted_profiles(device).select_related("tenant").prefetch_related("payloads"))
    rows = list(DeviceProfile.objects.filter(device=device))
    by_profile = {row.profile_id: row for row in rows if row.profile_id}
    by_identifier = {row.identifier: row for row in rows}
    variables = variables_of(device) if wanted else {}
    for profile in wanted:
        row = by_profile.get(profile.pk) or by_identifier.get(profile.identifier)
        digest = delivery_hash(profile, variables)
        current = row is not None and row.delivered and row.state != State.REMOVING
        if current and row.queued_hash == digest:
            continue  # queued, installed, or failed for this very version
        _install(device, profile, variables, digest, row)
    wanted_ids = {profile.pk for profile in wanted}
    wanted_identifiers = {profile.identifier for profile in wanted}
    for row in rows:
        if (
            row.delivered
            and row.state != State.REMOVING
            and row.profile_id not in wanted_ids
            and row.identifier not in wanted_identifiers
        ):
            _remove(device, row)


@desired.held_back_counter("profiles")
def held_back_profiles(devices) -> dict[int, int]:
    """Per device: wanted profiles not installed (five queries for any number of devices)."""
    ids = [d.pk for d in devices]
    tags: dict[int, set] = {pk: set() for pk in ids}
    for device_id, tag_id in Device.tags.through.objects.filter(device_id__in=ids).values_list(
        "device_id", "tag_id"
    ):
        tags[device_id].add(tag_id)
    users: dict[int, set] = {}
    for user_id, tag_id in ManagedUser.tags.through.objects.filter(
        manageduser_id__in={d.user_id for d in devices if d.user_id}
    ).values_list("manageduser_id", "tag_id"):
        users.setdefault(user_id, set()).add(tag_id)
    for device in devices:
        tags[device.pk] |= users.get(device.user_id, set())
    by_tag: dict[int, set] = {}
    for profile_id, tag_id in Profile.tags.through.objects.filter(
        tag_id__in=set().union(*tags.values()), profile__kind=Profile.Kind.CONFIGURATION
    ).values_list("profile_id", "tag_id"):
        by_tag.setdefault(tag_id, set()).add(profile_id)
    wanted = {pk: set().union(*(by_tag.get(t, set()) for t in tags[pk])) for pk in ids}
    for device_id, profile_id in Device.direct_profiles.through.objects.filter(
        device_id__in=ids
    ).values_list("device_id", "profile_id"):
        wanted[device_id].add(profile_id)
    for device_id, profile_id in DeviceProfile.objects.filter(
        device_id__in=ids, state=State.INSTALLED, profile__isnull=False
    ).values_list("device_id", "profile_id"):
        wanted[device_id].discard(profile_id)
    return {pk: len(profiles) for pk, profiles in wanted.items()}


def overview(device: Device) -> list[dict]:
    """Wanted and installed profiles side by side for the device page (three queries)."""
    wanted = {p.pk: p for p in wanted_profiles(device).order_by("name")}
    rows = list(DeviceProfile.objects.filter(device=device).select_related("profile"))
    items, seen = [], set()
    for row in rows:
        profile = wanted.get(row.profile_id)
        if profile is None:
            profile = next((p for p in wanted.values() if p.identifier == row.identifier), None)
        if profile is not None:
            seen.add(profile.pk)
        items.append(
            {
                "name": row.display_name or (row.profile.name if row.profile else row.identifier),
                "identifier": row.identifier,
                "wanted": profile is not None,
                "state": row.state if row.delivered else "reported",
                "state_label": row.get_state_display(),
                "installed_revision": row.installed_revision,
                "queued_revision": row.queued_revision if row.state == State.QUEUED else None,
                "error_chain": row.error_chain,
            }
        )
    for profile in wanted.values():
        if profile.pk not in seen:
            items.append(
                {
                    "name": profile.name,
                    "identifier": profile.identifier,
                    "wanted": True,
                    "state": "waiting",
                    "state_label": _("Waits for the device's next connection"),
                    "installed_revision": None,
                    "queued_revision": None,
                    "error_chain": [],
                }
            )
    return sorted(items, key=lambda item: (not item["wanted"], str(item["name"]).lower()))
