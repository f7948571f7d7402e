"""The mdm app's answers to the signals of users (connected in MdmConfig.ready)."""

from django.dispatch import receiver

from users import signals
from users.models import ManagedUser


@receiver(signals.count_enrolled_devices, sender=ManagedUser)
def _count_enrolled_devices(sender, users, **kwargs) -> int:
    from .models import Device

    return Device.objects.filter(user__in=users).exclude(status=Device.Status.UNENROLLED).count()
