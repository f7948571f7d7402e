"""The command catalogue: every command builds a schema-valid payload; forbidden and invalid
commands are refused before anything is stored."""

import base64
import plistlib

import pytest

from apple import schema
from mdm import queue
from mdm.commands import REGISTRY, CommandError, command_for, validated_command
from mdm.models import Command
from tests import factories

ARGUMENTS = {
    "DeviceInformation": None,
    "InstalledApplicationList": None,
    "ManagedApplicationList": None,
    "ProfileList": None,
    "SecurityInfo": None,
    "CertificateList": None,
    "InstallProfile": {
        "Payload": base64.b64encode(
            plistlib.dumps(
                {
                    "PayloadType": "Configuration",
                    "PayloadVersion": 1,
                    "PayloadIdentifier": "com.example.wifi",
                    "PayloadUUID": "6C7E4E0E-8F7B-4D84-9E0B-5E2D6F1C2A11",
                    "PayloadContent": [],
                }
            )
        ).decode()
    },
    "RemoveProfile": {"Identifier": "com.example.wifi"},
    "InstallApplication": {"iTunesStoreID": 361309726, "ManagementFlags": 1},
    "RemoveApplication": {"Identifier": "com.example.app"},
    "Settings": {
        "Settings": [
            {"Item": "OrganizationInfo", "OrganizationInfo": {"OrganizationName": "Contoso"}}
        ]
    },
    "DeclarativeManagement": None,
}


def test_the_catalogue_has_the_commands_the_issue_asks_for():
    assert set(ARGUMENTS) <= set(REGISTRY)


@pytest.mark.parametrize("request_type", sorted(REGISTRY))
def test_every_command_builds_a_schema_valid_payload(db, request_type):
    device = factories.device(factories.tenant())
    command = command_for(request_type, ARGUMENTS.get(request_type))
    built = validated_command(command, device)
    assert built["RequestType"] == request_type
    # Settings lists one shape per Item side by side; the command checks each item's own shape.
    assert command.schema_errors(built) == []
    if request_type != "Settings":
        assert schema.validate_command(built, user_enrollment=True) == []
    assert schema.command_allowed_in_user_enrollment(request_type)


def test_install_application_uses_purchase_method_1(db):
    device = factories.device(factories.tenant())
    built = validated_command(
        command_for("InstallApplication", ARGUMENTS["InstallApplication"]), device
    )
    assert built["Options"] == {"PurchaseMethod": 1} and built["iTunesStoreID"] == 361309726


@pytest.mark.parametrize(
    "request_type",
    [
        "EraseDevice",
        "ClearPasscode",
        "Restrictions",
        "DeviceLocation",
        "EnableLostMode",
        "UserList",
    ],
)
def test_commands_forbidden_in_user_enrollment_are_refused_before_storage(db, request_type):
    device = factories.device(factories.tenant())
    with pytest.raises(CommandError, match="user enrollment"):
        queue.enqueue_request(device, request_type, None)
    assert not Command.objects.exists()


@pytest.mark.parametrize(
    "request_type,arguments,message",
    [
        ("NoSuchCommand", None, "Unknown command"),
        ("DeviceInformation", {"Queries": ["SerialNumber"]}, "Not available"),
        ("DeviceInformation", {"Queries": "DeviceName"}, "list"),
        ("RemoveProfile", {}, "Identifier is required"),
        ("RemoveProfile", {"Identifier": ["x"]}, "text"),
        ("InstallApplication", {"iTunesStoreID": "12"}, "positive number"),
        (
            "InstallApplication",
            {"iTunesStoreID": 1, "ChangeManagementState": "Managed"},
            "does not take",
        ),
        ("InstallProfile", {"Payload": "%%%"}, "base64"),
        ("Settings", {"Settings": [{"Item": "Wallpaper", "Image": "x", "Where": 1}]}, "Wallpaper"),
        ("ProfileList", {"Extra": 1}, "no arguments"),
    ],
)
def test_invalid_arguments_are_refused_with_a_reason(db, request_type, arguments, message):
    device = factories.device(factories.tenant())
    with pytest.raises(CommandError, match=message):
        queue.enqueue_request(device, request_type, arguments)
    assert not Command.objects.exists()
