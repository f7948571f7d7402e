"""InstalledApplicationList and ManagedApplicationList: the device's managed apps as rows."""

from .. import app_installations
from ..models import DeviceApp
from .base import (
    CommandType,
    ResultError,
    bool_arg,
    jsonable,
    only_keys,
    register,
    result_text,
    store_reported,
    string_list_arg,
)


def _items(result: dict, key: str, kind):
    value = result.get(key, kind())
    if not isinstance(value, kind):
        raise ResultError(f"{key} must be a {kind.__name__}")
    return value


@register
class InstalledApplicationList(CommandType):
    request_type = "InstalledApplicationList"
    inventory = True

    def clean(self, arguments):
        only_keys(arguments, {"ManagedAppsOnly", "Identifiers"}, self.request_type)
        cleaned = {"ManagedAppsOnly": bool_arg(arguments, "ManagedAppsOnly") is not False}
        identifiers = string_list_arg(arguments, "Identifiers")
        if identifiers:
            cleaned["Identifiers"] = identifiers
        return cleaned

    def process(self, device, result):
        rows = {}
        for item in _items(result, "InstalledApplicationList", list):
            if not isinstance(item, dict):
                raise ResultError("InstalledApplicationList items must be dictionaries")
            identifier = result_text(item, "Identifier")
            if identifier:
                rows[identifier] = DeviceApp(
                    device=device,
                    identifier=identifier,
                    name=result_text(item, "Name"),
                    version=result_text(item, "Version", 64),
                    short_version=result_text(item, "ShortVersion", 64),
                    is_managed=item.get("IsManaged", True) is not False,
                )
        store_reported(
            DeviceApp,
            device,
            list(rows.values()),
            ["name", "version", "short_version", "is_managed"],
            # A full list replaces what we knew; one for some identifiers only adds to it.
            complete="Identifiers" not in self.arguments,
        )
        managed = {i: "" for i, row in rows.items() if row.is_managed}
        app_installations.apps_reported(
            device, managed, complete="Identifiers" not in self.arguments
        )
        app_installations.versions_reported(
            device, {i: row.short_version or row.version for i, row in rows.items()}
        )
        return {"apps": len(rows)}


@register
class ManagedApplicationList(CommandType):
    request_type = "ManagedApplicationList"
    inventory = True

    def clean(self, arguments):
        only_keys(arguments, {"Identifiers"}, self.request_type)
        identifiers = string_list_arg(arguments, "Identifiers")
        return {"Identifiers": identifiers} if identifiers else {}

    def process(self, device, result):
        states = {}
        for identifier, attributes in _items(result, "ManagedApplicationList", dict).items():
            if not isinstance(attributes, dict):
                raise ResultError("ManagedApplicationList values must be dictionaries")
            states[str(identifier)[:255]] = result_text(attributes, "Status", 40)
        store_reported(
            DeviceApp,
            device,
            [DeviceApp(device=device, identifier=i, state=s) for i, s in states.items()],
            ["state"],
            complete=False,
        )
        app_installations.apps_reported(
            device, states, complete="Identifiers" not in self.arguments
        )
        return {"ManagedApplicationList": jsonable(result.get("ManagedApplicationList"))}
