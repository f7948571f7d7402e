"""The command catalogue's base: one class per RequestType, registered by name.

A command class cleans its arguments (Apple's key names, JSON values), builds the ``Command``
dictionary for one device, and turns the device's answer into database state. Everything it
builds is checked against the schema facts table before it is stored or sent.
"""

import base64
import binascii
import datetime as dt
from typing import ClassVar

from django.utils.translation import gettext as _

from apple import schema


class CommandError(ValueError):
    """A command refused before anything is stored; the message is for a person."""


class ResultError(ValueError):
    """A device answer that does not have the shape Apple documents for the command."""


class CommandType:
    request_type: ClassVar[str]
    # Inventory commands read and change nothing, so they go out before the terms are accepted.
    inventory: ClassVar[bool] = False
    priority: ClassVar[int] = 0

    def __init__(self, arguments: dict | None = None):
        if arguments is not None and not isinstance(arguments, dict):
            raise CommandError(_("The arguments of a command must be an object."))
        self.arguments = self.clean(dict(arguments or {}))

    @classmethod
    def restore(cls, arguments: dict) -> "CommandType":
        """A stored command again, without re-cleaning what was cleaned when it was queued."""
        command = cls.__new__(cls)
        command.arguments = dict(arguments or {})
        return command

    def clean(self, arguments: dict) -> dict:
        """Validated arguments; the default takes none."""
        if arguments:
            raise CommandError(
                _("%(command)s takes no arguments (got %(keys)s).")
                % {"command": self.request_type, "keys": ", ".join(sorted(arguments))}
            )
        return {}

    def payload(self, device) -> dict:
        """The command's keys besides RequestType."""
        return dict(self.arguments)

    def build(self, device) -> dict:
        return {"RequestType": self.request_type, **self.payload(device)}

    def schema_errors(self, built: dict) -> list[str]:
        return schema.validate_command(built, user_enrollment=True)

    def process(self, device, result: dict) -> dict:
        """Store what an Acknowledged answer says; return what the history shows of it."""
        return {}

    def refused(self, device, result: dict, chain: list) -> None:
        """The device answered Error (``result``: the answer's own keys, ``chain``: its
        ErrorChain); commands whose refusal changes state say how."""


REGISTRY: dict[str, type[CommandType]] = {}


def register(cls: type[CommandType]) -> type[CommandType]:
    REGISTRY[cls.request_type] = cls
    return cls


def command_for(request_type, arguments: dict | None = None) -> CommandType:
    """The command of that RequestType with cleaned arguments, or ``CommandError`` saying why not."""
    if not isinstance(request_type, str) or request_type not in schema.facts()["commands"]:
        raise CommandError(_("Unknown command %(name)r.") % {"name": str(request_type)[:64]})
    if not schema.command_allowed_in_user_enrollment(request_type):
        raise CommandError(
            _(
                "%(name)s cannot be sent: Apple does not allow it on devices enrolled with "
                "user enrollment (personal devices)."
            )
            % {"name": request_type}
        )
    cls = REGISTRY.get(request_type)
    if cls is None:
        raise CommandError(_("The portal does not send %(name)s yet.") % {"name": request_type})
    return cls(arguments)


def validated_command(command: CommandType, device) -> dict:
    """The Command dictionary for ``device``, valid against Apple's schema, or CommandError."""
    built = command.build(device)
    errors = command.schema_errors(built)
    if errors:
        raise CommandError("; ".join(errors))
    return built


# --- argument and result helpers ----------------------------------------------------------


def string_arg(
    arguments: dict, key: str, *, required: bool = False, limit: int = 255
) -> str | None:
    value = arguments.get(key)
    if value is None:
        if required:
            raise CommandError(_("%(key)s is required.") % {"key": key})
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit or "\x00" in value:
        raise CommandError(_("%(key)s must be a non-empty text.") % {"key": key})
    return value.strip()


def string_list_arg(arguments: dict, key: str, *, limit: int = 200) -> list[str] | None:
    value = arguments.get(key)
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) > limit
        or not all(isinstance(v, str) and v and "\x00" not in v for v in value)
    ):
        raise CommandError(_("%(key)s must be a list of texts.") % {"key": key})
    return value


def bool_arg(arguments: dict, key: str) -> bool | None:
    value = arguments.get(key)
    if value is not None and not isinstance(value, bool):
        raise CommandError(_("%(key)s must be true or false.") % {"key": key})
    return value


def data_arg(arguments: dict, key: str, *, required: bool = False, limit: int = 1 << 20) -> bytes:
    """Binary values travel as base64 text in JSON."""
    value = string_arg(arguments, key, required=required, limit=limit * 4 // 3 + 4)
    if value is None:
        return b""
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CommandError(_("%(key)s must be base64.") % {"key": key}) from exc


def only_keys(arguments: dict, allowed: set[str], request_type: str) -> None:
    unknown = set(arguments) - allowed
    if unknown:
        raise CommandError(
            _("%(command)s does not take %(keys)s.")
            % {"command": request_type, "keys": ", ".join(sorted(unknown))}
        )


def result_value(result: dict, key: str, kind, *, default=None):
    """A key of a device answer, checked for its type (ResultError otherwise)."""
    value = result.get(key, default)
    if value is default:
        return value
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ResultError(f"{key} must be {getattr(kind, '__name__', kind)}")
    return value


def result_text(item: dict, key: str, limit: int = 255) -> str:
    value = item.get(key, "")
    if not isinstance(value, str):
        raise ResultError(f"{key} must be a string")
    return value[:limit]


def store_reported(model, device, rows: list, fields: list[str], *, complete: bool) -> None:
    """Upsert what the device reported (one row per device and identifier) in one statement;
    a ``complete`` report also drops the rows it no longer lists."""
    if complete:
        identifiers = [row.identifier for row in rows]
        model.objects.filter(device=device).exclude(identifier__in=identifiers).delete()
    model.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["device", "identifier"],
        update_fields=[*fields, "updated_at"],
    )


def jsonable(value, *, depth: int = 0):
    """A device answer as JSON for the history: data as its size, dates as ISO text."""
    if depth > 20:
        return None
    if isinstance(value, dict):
        return {str(k): jsonable(v, depth=depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v, depth=depth + 1) for v in value]
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value
