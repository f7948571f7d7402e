"""``$USERNAME``, ``$EMAIL`` and ``$MANAGED_APPLE_ID`` in admin-written text (managed app
configuration, profile payloads), replaced per user: the one place that knows them."""

import re

VARIABLES = ("USERNAME", "EMAIL", "MANAGED_APPLE_ID")
_PATTERN = re.compile(r"\$(MANAGED_APPLE_ID|USERNAME|EMAIL)\b")


def values_for(user) -> dict[str, str]:
    """The variables' values for a managed user (empty text for a device without a user)."""
    if user is None:
        return dict.fromkeys(VARIABLES, "")
    return {
        "USERNAME": user.username,
        "EMAIL": user.email,
        "MANAGED_APPLE_ID": user.managed_apple_id,
    }


def substitute(value, user):
    """``value`` (text, or dicts and lists of them, as in a plist) with the variables replaced
    in every string; keys and other types are left as they are."""
    values = values_for(user)
    return _substitute(value, values)


def _substitute(value, values):
    if isinstance(value, str):
        return _PATTERN.sub(lambda match: values[match.group(1)], value)
    if isinstance(value, dict):
        return {key: _substitute(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, values) for item in value]
    return value
