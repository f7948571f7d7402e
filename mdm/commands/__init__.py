"""The command catalogue: one class per RequestType (see ``base``), registered on import."""

from . import (
    application_lists,
    applications,
    declarative,
    device_information,
    profiles,
    security,
    settings_command,
)
from .base import REGISTRY, CommandError, CommandType, ResultError, command_for, validated_command

# What an inventory refresh asks (each answer updates the tile and detail page).
INVENTORY = ("DeviceInformation", "InstalledApplicationList", "ProfileList", "SecurityInfo")

__all__ = [
    "INVENTORY",
    "REGISTRY",
    "CommandError",
    "CommandType",
    "ResultError",
    "application_lists",
    "applications",
    "command_for",
    "declarative",
    "device_information",
    "profiles",
    "security",
    "settings_command",
    "validated_command",
]
