"""Settings, with the items user enrollment allows.

Apple's schema lists one dictionary shape per ``Item``; each item is checked against the shape
its ``Item`` names, so a forbidden item (Wallpaper, DeviceName, …) is refused by name.
"""

import functools

from django.utils.translation import gettext as _

from apple import schema

from .base import CommandError, CommandType, jsonable, only_keys, register


@functools.cache
def _shapes() -> dict[str, dict]:
    (settings,) = [
        k for k in schema.facts()["commands"]["Settings"]["keys"] if k["key"] == "Settings"
    ]
    shapes = {}
    for shape in settings["subkeys"]:
        item = next((k for k in shape.get("subkeys", []) if k["key"] == "Item"), None)
        for name in (item or {}).get("rangelist", []):
            shapes[name] = shape
    return shapes


def _allowed(shape: dict) -> bool:
    ios = shape.get("ios", {})
    return ios.get("ue") != "forbidden" and ios.get("introduced") != "n/a" and "removed" not in ios


@register
class Settings(CommandType):
    request_type = "Settings"

    def clean(self, arguments):
        only_keys(arguments, {"Settings"}, self.request_type)
        items = arguments.get("Settings")
        if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
            raise CommandError(_("Settings must be a non-empty list of setting items."))
        for item in items:
            name = item.get("Item")
            shape = _shapes().get(name) if isinstance(name, str) else None
            if shape is None:
                raise CommandError(_("Unknown setting item %(item)r.") % {"item": str(name)[:64]})
            if not _allowed(shape):
                raise CommandError(
                    _("The setting %(item)s is not allowed with user enrollment.") % {"item": name}
                )
        return {"Settings": items}

    def schema_errors(self, built):
        errors = []
        for index, item in enumerate(built["Settings"]):
            shape = _shapes()[item["Item"]]
            payload = dict(item)
            # Validate the item as if its shape were the whole command's key list.
            errors += [
                f"Settings[{index}]: {e}"
                for e in schema.validate_keys(payload, shape.get("subkeys", []), "Settings")
            ]
        return errors

    def process(self, device, result):
        return {"Settings": jsonable(result.get("Settings", []))}
