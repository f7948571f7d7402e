"""How mdm follows what happens upstream (users, enrollment) without them knowing mdm."""

from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver

from enrollment import signals as enrollment_signals
from users import signals as user_signals
from users.models import ManagedUser

from . import removal, tasks
from .models import Device


@receiver(pre_delete, sender=ManagedUser, dispatch_uid="mdm.user_deleted")
def user_deleted(sender, instance, **kwargs):
    tasks.push_after_commit(removal.remove_devices_of_users([instance.pk], reason="user deleted"))


@receiver(post_save, sender=ManagedUser, dispatch_uid="mdm.user_saved")
def user_saved(sender, instance, created, **kwargs):
    if not created and not instance.is_active:
        tasks.push_after_commit(
            removal.remove_devices_of_users([instance.pk], reason="user deactivated")
        )


@receiver(user_signals.managed_users_deactivated, dispatch_uid="mdm.users_deactivated")
def users_deactivated(sender, user_ids, **kwargs):
    tasks.push_after_commit(removal.remove_devices_of_users(user_ids, reason="user deactivated"))


@receiver(enrollment_signals.terms_accepted, dispatch_uid="mdm.terms_accepted")
def terms_accepted(sender, session, **kwargs):
    """The held-back configuration goes out now: the devices are pushed."""
    ids = list(Device.objects.filter(session=session).values_list("pk", flat=True))
    Device.objects.filter(pk__in=ids).update(terms_accepted=True)
    tasks.push_after_commit(ids)


@receiver(enrollment_signals.terms_published, dispatch_uid="mdm.terms_published")
def terms_published(sender, tenant, **kwargs):
    Device.objects.filter(tenant=tenant).update(terms_accepted=False)


@receiver(user_signals.count_enrolled_devices, sender=ManagedUser, dispatch_uid="mdm.count")
def count_enrolled_devices(sender, users, **kwargs) -> int:
    return Device.objects.filter(user__in=users).exclude(status=Device.Status.UNENROLLED).count()
