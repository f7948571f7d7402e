"""Managed app configuration as admins write it: a plist dictionary (XML) or ``key = value``
lines, with the variables of ``users.variables``; parsed into the dictionary ``App.configuration``
stores, and written back as text for editing."""

import re

from django.utils.translation import gettext as _

from apple import plist
from users.variables import VARIABLES

MAX_TEXT = 64 * 1024
_VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_PLAIN_TYPES = (str, int, float, bool)


class ConfigurationError(ValueError):
    """The text is not a configuration the portal can send; the message says why."""


def parse(text: str) -> dict:
    text = (text or "").strip()
    if not text:
        return {}
    if len(text.encode()) > MAX_TEXT:
        raise ConfigurationError(_("The configuration is larger than 64 KB."))
    if text.startswith("<"):
        try:
            value = plist.loads(text.encode(), reject_nul=True)
        except plist.PlistError as exc:
            raise ConfigurationError(
                _("This is not a valid plist dictionary (%(reason)s).") % {"reason": exc}
            ) from exc
    else:
        value = _key_values(text)
    _check(value)
    return value


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
        if "\x00" in line:
            raise ConfigurationError(
                _("Line %(number)s: NUL characters are not allowed.") % {"number": number}
            )
        value[key] = item.strip()
    return value


def _check(value) -> None:
    """Only what JSON and a plist both hold (no dates or data), and only known variables."""
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
        elif isinstance(item, str):
            for name in _VARIABLE.findall(item):
                if name not in VARIABLES:
                    raise ConfigurationError(
                        _("Unknown variable $%(name)s: use $USERNAME, $EMAIL or $MANAGED_APPLE_ID.")
                        % {"name": name}
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
        and not k.startswith(("#", "<"))
        for k, v in configuration.items()
    ):
        return "\n".join(f"{key} = {value}" for key, value in configuration.items())
    return plist.dumps(configuration).decode()
