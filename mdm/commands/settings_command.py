"""Settings, with the items user enrollment allows (the schema refuses the others)."""

from django.utils.translation import gettext as _

from .base import CommandError, CommandType, jsonable, only_keys, register


@register
class Settings(CommandType):
    request_type = "Settings"

    def clean(self, arguments):
        only_keys(arguments, {"Settings"}, self.request_type)
        items = arguments.get("Settings")
        if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
            raise CommandError(_("Settings must be a non-empty list of setting items."))
        return {"Settings": items}

    def process(self, device, result):
        return {"Settings": jsonable(result.get("Settings", []))}
