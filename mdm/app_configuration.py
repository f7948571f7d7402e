"""Managed app configuration: the one check for what pages, API and services store in
``App.configuration`` — a dictionary that makes a property list, given as a dictionary (API) or
as text (a plist dictionary in XML, a JSON object, or ``key = value`` lines), with the variables
of ``users.variables`` only; and the text form written back for editing."""

import json

from django.utils.translation import gettext as _

from apple import plist
from users.variables import VARIABLES, unknown_variables

MAX_BYTES = 64 * 1024
# What JSON (the stored form) and a plist both hold: no dates or data.
_PLAIN_TYPES = (str, int, float, bool)


class ConfigurationError(ValueError):
    """The configuration cannot be sent to devices; the message says why, for a person."""


def parse(value) -> dict:
    """The configuration to store from a dictionary or its text ("" or None: none)."""
    if value is None:
        return {}
    if isinstance(value, str):
        value = _from_text(value)
    if not isinstance(value, dict):
        raise ConfigurationError(_("The configuration must be a dictionary."))
    try:
        plist.check_strings(value)  # NUL, nesting, string keys
        _check(value)
        size = len(plist.dumps(value))
    except ConfigurationError:
        raise
    except (plist.PlistError, TypeError, ValueError, OverflowError) as exc:
        raise ConfigurationError(
            _("The configuration cannot be a property list: %(reason)s") % {"reason": exc}
        ) from exc
    if size > MAX_BYTES:
        raise ConfigurationError(_("The configuration is larger than 64 KB."))
    return value


def _from_text(text: str):
    text = text.strip()
    if not text:
        return {}
    if len(text.encode()) > MAX_BYTES:
        raise ConfigurationError(_("The configuration is larger than 64 KB."))
    if text.startswith("<"):
        try:
            return plist.loads(text.encode(), reject_nul=True)
        except plist.PlistError as exc:
            raise ConfigurationError(
                _("This is not a valid plist dictionary (%(reason)s).") % {"reason": exc}
            ) from exc
    if text.startswith("{"):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ConfigurationError(
                _("This is not a valid JSON object (%(reason)s).") % {"reason": exc}
            ) from exc
    return _key_values(text)


def _key_values(text: str) -> dict:
    value = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, item = line.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigurationError(
                _("Line %(number)s: write key = value, or paste a plist dictionary.")
                % {"number": number}
            )
        value[key] = item.strip()
    return value


def _check(value) -> None:
    """Plain values and integers a plist holds (``TypeError``, ``ValueError``), and known
    variables (``ConfigurationError``)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif not isinstance(item, _PLAIN_TYPES):
            raise ConfigurationError(
                _(
                    "Use strings, numbers, booleans, arrays and dictionaries only (no dates or data)."
                )
            )
        elif isinstance(item, int) and not isinstance(item, bool) and not -(2**63) <= item < 2**64:
            raise ValueError("integer out of range")
    unknown = unknown_variables(value)
    if unknown:
        raise ConfigurationError(
            _("Unknown variable %(names)s: use %(known)s.")
            % {"names": ", ".join(unknown), "known": ", ".join("$" + v for v in VARIABLES)}
        )


def to_text(configuration: dict) -> str:
    """The text form for the edit field: key = value lines when every value is a one-line
    string, else plist XML."""
    if not configuration:
        return ""
    if all(
        isinstance(v, str)
        and v == v.strip()
        and "\n" not in v
        and "=" not in k
        and k == k.strip()
        and not k.startswith(("#", "<", "{"))
        for k, v in configuration.items()
    ):
        return "\n".join(f"{key} = {value}" for key, value in configuration.items())
    return plist.dumps(configuration).decode()
