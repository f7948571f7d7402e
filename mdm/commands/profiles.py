"""ProfileList, InstallProfile and RemoveProfile."""

import plistlib

from django.utils.translation import gettext as _

from apple import cms

from ..models import DeviceProfile
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
        store_reported(
            DeviceProfile,
            device,
            list(rows.values()),
            ["display_name", "payload_uuid", "organization", "is_managed"],
            complete=True,
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


@register
class InstallProfile(CommandType):
    request_type = "InstallProfile"

    def clean(self, arguments):
        only_keys(arguments, {"Payload"}, self.request_type)
        data = data_arg(arguments, "Payload", required=True)
        _profile_identifier(data)
        return {"Payload": arguments["Payload"]}

    def payload(self, device):
        return {"Payload": data_arg(self.arguments, "Payload")}


@register
class RemoveProfile(CommandType):
    request_type = "RemoveProfile"

    def clean(self, arguments):
        only_keys(arguments, {"Identifier"}, self.request_type)
        return {"Identifier": string_arg(arguments, "Identifier", required=True)}

    def process(self, device, result):
        DeviceProfile.objects.filter(
            device=device, identifier=self.arguments["Identifier"]
        ).delete()
        return {}
