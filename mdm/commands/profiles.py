"""ProfileList, InstallProfile and RemoveProfile."""

import plistlib

from django.db.models import Exists, F
from django.utils import timezone
from django.utils.translation import gettext as _

from apple import cms

from ..models import Device, DeviceProfile
from ..protocol import command_uuid
from .base import (
    CommandError,
    CommandType,
    ResultError,
    data_arg,
    only_keys,
    register,
    result_text,
    store_reported,
    string_arg,
)


@register
class ProfileList(CommandType):
    request_type = "ProfileList"
    inventory = True

    def process(self, device, result):
        items = result.get("ProfileList", [])
        if not isinstance(items, list):
            raise ResultError("ProfileList must be an array")
        rows = {}
        for item in items:
            if not isinstance(item, dict):
                raise ResultError("ProfileList items must be dictionaries")
            identifier = result_text(item, "PayloadIdentifier")
            if identifier:
                rows[identifier] = DeviceProfile(
                    device=device,
                    identifier=identifier,
                    display_name=result_text(item, "PayloadDisplayName"),
                    payload_uuid=result_text(item, "PayloadUUID", 64),
                    organization=result_text(item, "PayloadOrganization"),
                    is_managed=item.get("IsManaged", True) is not False,
                )
        # The list is what the device has. Rows of profiles the portal is still installing
        # (queued, failed) stay; a delivered profile the device no longer lists is forgotten
        # and the device made due, so reconciliation installs it again.
        gone = DeviceProfile.objects.filter(device=device).exclude(identifier__in=list(rows))
        lost = gone.filter(state=DeviceProfile.State.INSTALLED)
        Device.objects.filter(pk=device.pk).filter(Exists(lost)).update(config_due=True)
        gone.exclude(state__in=(DeviceProfile.State.QUEUED, DeviceProfile.State.FAILED)).delete()
        # Reported fields only: a new row is "on the device", an existing one keeps its state.
        store_reported(
            DeviceProfile,
            device,
            list(rows.values()),
            ["display_name", "payload_uuid", "organization", "is_managed"],
            complete=False,
        )
        return {"profiles": sorted(rows)}


def _profile_identifier(data: bytes) -> str:
    """The top-level PayloadIdentifier of a (signed or unsigned) profile."""
    content = data
    if not data.lstrip().startswith((b"<?xml", b"<plist", b"bplist")):
        try:
            content = cms.verify(data).content
        except (cms.CMSError, ValueError) as exc:
            raise CommandError(_("Payload is neither a profile nor a signed profile.")) from exc
    try:
        profile = plistlib.loads(content)
    except Exception as exc:  # plistlib raises several types for bad input
        raise CommandError(_("Payload is not a property list.")) from exc
    identifier = profile.get("PayloadIdentifier") if isinstance(profile, dict) else None
    if not isinstance(identifier, str) or profile.get("PayloadType") != "Configuration":
        raise CommandError(_("Payload is not a configuration profile."))
    return identifier


def _answered_rows(device, answer: dict):
    """The delivery rows waiting for this answer (matched by CommandUUID)."""
    return DeviceProfile.objects.filter(device=device, command_uuid=command_uuid(answer))


@register
class InstallProfile(CommandType):
    request_type = "InstallProfile"

    def clean(self, arguments):
        only_keys(arguments, {"Payload"}, self.request_type)
        data = data_arg(arguments, "Payload", required=True)
        _profile_identifier(data)
        return {"Payload": arguments["Payload"]}

    def payload(self, device):
        # Only the Payload goes out; other arguments are the portal's notes (mdm.renewal).
        return {"Payload": data_arg(self.arguments, "Payload")}

    def process(self, device, result):
        _answered_rows(device, result).update(
            state=DeviceProfile.State.INSTALLED,
            installed_hash=F("queued_hash"),
            installed_revision=F("queued_revision"),
            error_chain=[],
            updated_at=timezone.now(),
        )
        return {}

    def failed(self, device, answer, error_chain):
        _answered_rows(device, answer).update(
            state=DeviceProfile.State.FAILED, error_chain=error_chain, updated_at=timezone.now()
        )


@register
class RemoveProfile(CommandType):
    request_type = "RemoveProfile"

    def clean(self, arguments):
        only_keys(arguments, {"Identifier"}, self.request_type)
        return {"Identifier": string_arg(arguments, "Identifier", required=True)}

    def process(self, device, result):
        # A row queued for installing again since (the profile is wanted back) stays.
        DeviceProfile.objects.filter(
            device=device, identifier=self.arguments["Identifier"]
        ).exclude(state=DeviceProfile.State.QUEUED).delete()
        return {}

    def failed(self, device, answer, error_chain):
        _answered_rows(device, answer).update(
            state=DeviceProfile.State.FAILED, error_chain=error_chain, updated_at=timezone.now()
        )
