"""Isolation cases of the device tile's configuration (issue 11): settings, command cancel."""

from tests.isolation.enrollment import _device, by_pk


def _open_command(tenant):
    from mdm.models import Command

    return Command.objects.create(device=_device(tenant), request_type="ProfileList")


CASES = {
    "mdm:device-settings": (_device, by_pk),
    "mdm:device-command-cancel": (
        _open_command,
        lambda command: {"pk": command.device_id, "command": command.uuid},
    ),
}
