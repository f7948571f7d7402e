"""What a device tile says about a device: its labels, from the device row alone (no query)."""

from django.utils import formats
from django.utils.translation import gettext_lazy as _

from . import renewal
from .models import Device


def labels(device: Device, *, renewal_enabled: bool = False) -> list[tuple[str, str]]:
    """(css class, text) pairs. ``renewal_enabled``: the tenant's Apple re-enrollment switch."""
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
    if renewal.expires_soon(device):
        if renewal_enabled:
            result.append(("warn", _("Identity renewal under way")))
        else:
            expires = formats.date_format(device.identity_not_after, "SHORT_DATE_FORMAT")
            result.append(
                (
                    "bad",
                    _("Identity expires %(date)s: turn on Apple re-enrollment") % {"date": expires},
                )
            )
    return result
