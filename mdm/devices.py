"""Device operations shared by the admin pages and the API."""

from django.db import transaction

from enrollment.models import EnrollmentSession
from users.audit import record

from .models import Device


@transaction.atomic
def remove_device(device: Device, *, account) -> None:
    """Forget a device. Its enrollment's token stops working, so the device's next request is
    refused as unrecognized and iOS removes the work account (a later issue adds RemoveProfile)."""
    if device.session_id:
        EnrollmentSession.objects.filter(pk=device.session_id).update(
            state=EnrollmentSession.State.ENDED
        )
    record(account, "device.removed", device, enrollment_id=device.enrollment_id)
    device.delete()
