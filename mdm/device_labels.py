"""What a device tile says about a device: its labels, from the device row alone (no query)."""

from django.utils.translation import gettext_lazy as _

from .models import Device


def labels(device: Device) -> list[tuple[str, str]]:
    """(css class, text) pairs."""
    if device.status == Device.Status.UNENROLLED:
        return [("bad", _("Unenrolled"))]
    if device.status == Device.Status.REMOVING:
        return [("warn", _("Removal pending"))]
    result = []
    if device.status == Device.Status.AUTHENTICATED:
        result.append(("warn", _("Enrollment not finished")))
    if not device.terms_accepted:
        result.append(("warn", _("Terms not accepted")))
    if device.status == Device.Status.ENROLLED and not device.has_push_token:
        result.append(("bad", _("No push token")))
    elif device.push_state == Device.PushState.UNREACHABLE:
        result.append(("bad", _("Unreachable")))
    return result
