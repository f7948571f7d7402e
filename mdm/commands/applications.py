"""InstallApplication (Apps and Books apps with PurchaseMethod 1) and RemoveApplication.

Answers about catalogue apps update their ``AppInstallation`` (``mdm.app_installations``)."""

from django.utils.translation import gettext as _

from users import variables

from .. import app_installations
from ..models import DeviceApp
from .base import (
    CommandError,
    CommandType,
    only_keys,
    register,
    result_text,
    store_reported,
    string_arg,
)

MANAGEMENT_FLAGS = {0, 1, 4, 5}  # 1: remove with the MDM profile, 4: no backup of app data


@register
class InstallApplication(CommandType):
    request_type = "InstallApplication"

    def clean(self, arguments):
        only_keys(
            arguments,
            {
                "iTunesStoreID",
                "Identifier",
                "ManagementFlags",
                "Options",
                "Configuration",
                "Attributes",
            },
            self.request_type,
        )
        store_id, identifier = arguments.get("iTunesStoreID"), arguments.get("Identifier")
        if (store_id is None) == (identifier is None):
            raise CommandError(_("Give either iTunesStoreID or Identifier."))
        cleaned = {}
        if store_id is not None:
            if isinstance(store_id, bool) or not isinstance(store_id, int) or store_id <= 0:
                raise CommandError(_("iTunesStoreID must be a positive number."))
            cleaned["iTunesStoreID"] = store_id
        else:
            cleaned["Identifier"] = string_arg(arguments, "Identifier", required=True)
        flags = arguments.get("ManagementFlags", 1)
        if isinstance(flags, bool) or flags not in MANAGEMENT_FLAGS:
            raise CommandError(_("ManagementFlags must be 0, 1, 4 or 5."))
        cleaned["ManagementFlags"] = flags
        options = arguments.get("Options", {"PurchaseMethod": 1})
        if not isinstance(options, dict) or options.get("PurchaseMethod", 1) not in (0, 1):
            raise CommandError(_("Options.PurchaseMethod must be 0 or 1."))
        cleaned["Options"] = {"PurchaseMethod": 1, **options}
        for key in ("Configuration", "Attributes"):
            if key in arguments:
                if not isinstance(arguments[key], dict):
                    raise CommandError(_("%(key)s must be an object.") % {"key": key})
                cleaned[key] = arguments[key]
        return cleaned

    def process(self, device, result):
        identifier = result_text(result, "Identifier")
        state = result_text(result, "State", 40)
        if identifier:
            store_reported(
                DeviceApp,
                device,
                [DeviceApp(device=device, identifier=identifier, state=state)],
                ["state"],
                complete=False,
            )
        if "iTunesStoreID" in self.arguments:
            app_installations.install_answered(
                device, self.arguments["iTunesStoreID"], identifier, state
            )
        summary = {"Identifier": identifier, "State": state}
        if "RejectionReason" in result:
            summary["RejectionReason"] = result_text(result, "RejectionReason", 80)
        return summary

    def refused(self, device, result, chain):
        if "iTunesStoreID" in self.arguments:
            app_installations.install_refused(
                device, self.arguments["iTunesStoreID"], result, chain
            )

    def payload(self, device):
        """Managed app configuration with $USERNAME, $EMAIL, $MANAGED_APPLE_ID of the device's
        user, filled in when the command goes out."""
        payload = dict(self.arguments)
        if "Configuration" in payload:
            payload["Configuration"] = variables.substitute(payload["Configuration"], device.user)
        return payload


@register
class RemoveApplication(CommandType):
    request_type = "RemoveApplication"

    def clean(self, arguments):
        only_keys(arguments, {"Identifier"}, self.request_type)
        return {"Identifier": string_arg(arguments, "Identifier", required=True)}

    def process(self, device, result):
        DeviceApp.objects.filter(device=device, identifier=self.arguments["Identifier"]).delete()
        app_installations.removal_answered(device, self.arguments["Identifier"])
        return {}

    def refused(self, device, result, chain):
        # Gone already (the user deleted it) or not removable: either way it is not ours now.
        app_installations.removal_answered(device, self.arguments["Identifier"])
