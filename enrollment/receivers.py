"""Enrollment's answers to the signals of users (connected in EnrollmentConfig.ready)."""

from django.dispatch import receiver

from users import signals
from users.models import ManagedUser

from .addresses import local_address


@receiver(signals.local_account_address, sender=ManagedUser)
def _local_account_address(sender, user, **kwargs) -> str:
    return local_address(user)
