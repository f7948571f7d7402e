"""Variables in admin-written text that reaches devices (configuration profile values, managed
app configuration): ``$USERNAME`` etc., the one place that knows them.

Texts are stored with the variables in place; they are replaced per user and device when the
profile or the InstallApplication command is built. ``unknown_variables`` is what forms, the API and the import use to refuse
a ``$NAME`` that would otherwise reach the device unreplaced.
"""

import re

VARIABLES = ("USERNAME", "EMAIL", "MANAGED_APPLE_ID", "FULL_NAME", "DEVICE_NAME")
# The variable each field of a managed user fills (``users.signals.DETAIL_FIELDS``).
FILLED_BY = {
    "username": "USERNAME",
    "email": "EMAIL",
    "managed_apple_id": "MANAGED_APPLE_ID",
    "first_name": "FULL_NAME",
    "last_name": "FULL_NAME",
}
# ``$`` followed by a name; ``$$`` is a literal dollar sign.
_PATTERN = re.compile(r"\$(\$|[A-Z][A-Z0-9_]*)")


def unknown_variables(value_tree) -> list[str]:
    """Every ``$NAME`` in the strings of ``value_tree`` that is not one of ``VARIABLES``."""
    found: list[str] = []
    for text in _strings(value_tree):
        for match in _PATTERN.finditer(text):
            name = match.group(1)
            if name != "$" and name not in VARIABLES and f"${name}" not in found:
                found.append(f"${name}")
    return found


def used_variables(value_tree) -> set[str]:
    """The known variables that occur in the strings of ``value_tree``."""
    return {
        match.group(1)
        for text in _strings(value_tree)
        for match in _PATTERN.finditer(text)
        if match.group(1) in VARIABLES
    }


def substitute(value_tree, variables: dict):
    """A copy of ``value_tree`` with every known ``$NAME`` in its strings (and dictionary
    keys' values, not the keys) replaced from ``variables`` (missing ones become "")."""
    if isinstance(value_tree, str):
        return _PATTERN.sub(lambda m: _replacement(m.group(1), variables), value_tree)
    if isinstance(value_tree, dict):
        return {key: substitute(item, variables) for key, item in value_tree.items()}
    if isinstance(value_tree, list | tuple):
        return [substitute(item, variables) for item in value_tree]
    return value_tree


def _replacement(name: str, variables: dict) -> str:
    if name == "$":
        return "$"
    if name not in VARIABLES:
        return f"${name}"
    return str(variables.get(name) or "")


def _strings(value_tree):
    if isinstance(value_tree, str):
        yield value_tree
    elif isinstance(value_tree, dict):
        for item in value_tree.values():
            yield from _strings(item)
    elif isinstance(value_tree, list | tuple):
        for item in value_tree:
            yield from _strings(item)


def variables_for(user, device_name: str = "") -> dict:
    """The values of ``VARIABLES`` for one managed user (and device); empty without a user."""
    if user is None:
        return {**dict.fromkeys(VARIABLES, ""), "DEVICE_NAME": device_name}
    full_name = " ".join(part for part in (user.first_name, user.last_name) if part)
    return {
        "USERNAME": user.username,
        "EMAIL": user.email,
        "MANAGED_APPLE_ID": user.managed_apple_id,
        "FULL_NAME": full_name,
        "DEVICE_NAME": device_name,
    }
