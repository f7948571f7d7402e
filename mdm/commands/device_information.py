"""DeviceInformation with the queries user enrollment allows; the answer fills the tile."""

import functools

from django.utils import timezone
from django.utils.translation import gettext as _

from apple import schema

from .base import CommandError, CommandType, ResultError, jsonable, only_keys, register

# What the tile and detail page show (§4.3: UE has no serial, UDID or phone numbers).
INVENTORY_QUERIES = [
    "DeviceName",
    "ProductName",
    "ModelName",
    "Model",
    "OSVersion",
    "BuildVersion",
    "DeviceCapacity",
    "AvailableDeviceCapacity",
    "BatteryLevel",
]

_TEXT_FIELDS = {
    "DeviceName": ("device_name", 128),
    "ProductName": ("product_name", 64),
    "ModelName": ("model_name", 64),
    "OSVersion": ("os_version", 32),
    "BuildVersion": ("build_version", 32),
}
_NUMBER_FIELDS = {
    "DeviceCapacity": "capacity_gb",
    "AvailableDeviceCapacity": "available_capacity_gb",
    "BatteryLevel": "battery_level",
}


@functools.cache
def allowed_queries() -> frozenset[str]:
    """Query names iOS user enrollment answers, from the schema facts table."""
    (queries,) = [
        k for k in schema.facts()["commands"]["DeviceInformation"]["keys"] if k["key"] == "Queries"
    ]
    names = set()
    for item in queries["subkeys"][0]["subkeys"]:
        ios = item.get("ios", {})
        if ios.get("ue") == "forbidden" or ios.get("introduced") == "n/a" or "removed" in ios:
            continue
        names.add(item["key"])
    return frozenset(names)


@register
class DeviceInformation(CommandType):
    request_type = "DeviceInformation"
    inventory = True

    def clean(self, arguments):
        only_keys(arguments, {"Queries"}, self.request_type)
        queries = arguments.get("Queries", INVENTORY_QUERIES)
        if (
            not isinstance(queries, list)
            or not queries
            or not all(isinstance(q, str) for q in queries)
        ):
            raise CommandError(_("Queries must be a non-empty list of query names."))
        refused = sorted(set(queries) - allowed_queries())
        if refused:
            raise CommandError(
                _("Not available with user enrollment: %(names)s.") % {"names": ", ".join(refused)}
            )
        return {"Queries": list(dict.fromkeys(queries))}

    def process(self, device, result):
        answers = result.get("QueryResponses")
        if not isinstance(answers, dict):
            raise ResultError("QueryResponses must be a dictionary")
        fields = {"inventory_at": timezone.now()}
        for key, (field, limit) in _TEXT_FIELDS.items():
            value = answers.get(key)
            if value is not None:
                if not isinstance(value, str):
                    raise ResultError(f"{key} must be a string")
                fields[field] = value[:limit]
        for key, field in _NUMBER_FIELDS.items():
            value = answers.get(key)
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ResultError(f"{key} must be a number")
                fields[field] = float(value)
        if not device.name and fields.get("device_name", device.device_name) != device.device_name:
            # Without a portal name, $DEVICE_NAME is the device's own: profiles showing it are
            # reinstalled (mdm.profile_delivery compares what they would show).
            fields["config_due"] = True
        type(device).objects.filter(pk=device.pk).update(**fields)
        for field, value in fields.items():
            setattr(device, field, value)
        return {"QueryResponses": jsonable(answers)}
