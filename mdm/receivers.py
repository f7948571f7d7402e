"""How mdm follows what happens upstream (users, enrollment) without them knowing mdm."""

from django.conf import settings
from django.db.models.signals import m2m_changed, post_save, pre_delete
from django.dispatch import receiver
from django.urls import reverse

from apple.models import VppEvent
from apple.signals import vpp_event_settled
from enrollment import signals as enrollment_signals
from enrollment.models import Profile
from users import signals as user_signals
from users.models import ManagedUser, Tag, Tenant

from . import app_delivery, desired, licences, profile_delivery, removal, tasks
from .models import App, Device


@receiver(pre_delete, sender=ManagedUser, dispatch_uid="mdm.user_deleted")
def user_deleted(sender, instance, **kwargs):
    tasks.push_after_commit(removal.remove_devices_of_users([instance.pk], reason="user deleted"))
    # Retiring the Apps and Books user frees every licence it holds.
    tasks.retire_after_commit(licences.retire_users([instance.pk]))


@receiver(post_save, sender=ManagedUser, dispatch_uid="mdm.user_saved")
def user_saved(sender, instance, created, **kwargs):
    if not created and not instance.is_active:
        tasks.push_after_commit(
            removal.remove_devices_of_users([instance.pk], reason="user deactivated")
        )
        tasks.licences_after_commit(instance.tenant_id)


@receiver(user_signals.managed_users_deactivated, dispatch_uid="mdm.users_deactivated")
def users_deactivated(sender, user_ids, **kwargs):
    tasks.push_after_commit(removal.remove_devices_of_users(user_ids, reason="user deactivated"))
    for tenant_id in set(
        ManagedUser.objects.filter(pk__in=user_ids).values_list("tenant_id", flat=True)
    ):
        tasks.licences_after_commit(tenant_id)


@receiver(user_signals.managed_user_details_changed, dispatch_uid="mdm.user_details")
def user_details_changed(sender, changes, **kwargs):
    """Profiles that show a changed detail ($EMAIL, $FULL_NAME, ...) are reinstalled at the
    devices' next connect (their delivery hash differs), and apps whose configuration shows
    one are sent again; a new Managed Apple ID goes to Apple (``users/update``) and may let
    licences waiting for one be sent."""
    tasks.push_after_commit(desired.mark_changed(profile_delivery.devices_showing(changes)))
    tasks.push_after_commit(app_delivery.resend_for_details(changes))
    apple_ids = [pk for pk, names in changes.items() if "managed_apple_id" in names]
    if apple_ids:
        tasks.update_vpp_users_after_commit(licences.apple_ids_changed(apple_ids))
        for tenant_id in set(
            ManagedUser.objects.filter(pk__in=apple_ids).values_list("tenant_id", flat=True)
        ):
            tasks.licences_after_commit(tenant_id)


@receiver(enrollment_signals.terms_accepted, dispatch_uid="mdm.terms_accepted")
def terms_accepted(sender, session, **kwargs):
    """The held-back configuration goes out now: the devices are pushed."""
    ids = list(Device.objects.filter(session=session).values_list("pk", flat=True))
    Device.objects.filter(pk__in=ids).update(terms_accepted=True, config_due=True)
    tasks.push_after_commit(ids)


@receiver(enrollment_signals.terms_published, dispatch_uid="mdm.terms_published")
def terms_published(sender, tenant, **kwargs):
    Device.objects.filter(tenant=tenant).update(terms_accepted=False)


# Tags decide which apps and profiles a device should have (mdm.desired): a changed tag set of a
# user or a device, or a deleted tag, makes the devices it reaches due for reconciliation.
_TAG_ACTIONS = ("post_add", "post_remove", "pre_clear")


@receiver(m2m_changed, sender=ManagedUser.tags.through, dispatch_uid="mdm.user_tags")
def user_tags_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in _TAG_ACTIONS:
        return
    if not reverse:
        devices = Device.objects.filter(user=instance)
    elif action == "pre_clear":  # tag.users.clear(): the tag's users, before they go
        devices = Device.objects.filter(user__tags=instance)
    else:
        devices = Device.objects.filter(user_id__in=pk_set or ())
    tasks.push_after_commit(desired.mark_changed(devices))
    tasks.licences_after_commit(instance.tenant_id)


@receiver(m2m_changed, sender=Device.tags.through, dispatch_uid="mdm.device_tags")
def device_tags_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in _TAG_ACTIONS:
        return
    if not reverse:
        devices = Device.objects.filter(pk=instance.pk)
    elif action == "pre_clear":
        devices = Device.objects.filter(tags=instance)
    else:
        devices = Device.objects.filter(pk__in=pk_set or ())
    tasks.push_after_commit(desired.mark_changed(devices))
    tasks.licences_after_commit(instance.tenant_id)


@receiver(user_signals.user_tags_changed, dispatch_uid="mdm.user_tags_bulk")
def user_tags_rewritten(sender, user_ids, **kwargs):
    tasks.push_after_commit(desired.mark_changed(Device.objects.filter(user_id__in=user_ids)))
    for tenant_id in set(
        ManagedUser.objects.filter(pk__in=user_ids).values_list("tenant_id", flat=True)
    ):
        tasks.licences_after_commit(tenant_id)


@receiver(pre_delete, sender=Tag, dispatch_uid="mdm.tag_deleted")
def tag_deleted(sender, instance, **kwargs):
    devices = desired.devices_with_tags(instance.tenant_id, [instance.pk])
    tasks.push_after_commit(desired.mark_changed(devices))
    tasks.licences_after_commit(instance.tenant_id)


# Configuration profiles: a new revision, changed tags or direct assignments, or a deletion make
# the devices they reach (and those that have them) due; rows are written at their connect.


def _profile_devices_changed(devices) -> None:
    tasks.push_after_commit(desired.mark_changed(devices))


@receiver(
    enrollment_signals.configuration_profile_changed, dispatch_uid="mdm.configuration_profile"
)
def configuration_profile_changed(sender, profile, **kwargs):
    _profile_devices_changed(profile_delivery.devices_reached(profile))


@receiver(m2m_changed, sender=Profile.tags.through, dispatch_uid="mdm.profile_tags")
def profile_tags_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in _TAG_ACTIONS:
        return
    if reverse:  # tag.profiles changed: the tag's devices
        tag_ids, tenant_id = [instance.pk], instance.tenant_id
    elif action == "pre_clear":
        tag_ids, tenant_id = list(instance.tags.values_list("pk", flat=True)), instance.tenant_id
    else:
        tag_ids, tenant_id = list(pk_set or ()), instance.tenant_id
    if tag_ids:
        _profile_devices_changed(desired.devices_with_tags(tenant_id, tag_ids))


@receiver(m2m_changed, sender=Device.direct_profiles.through, dispatch_uid="mdm.direct_profiles")
def direct_profiles_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in _TAG_ACTIONS:
        return
    if not reverse:
        devices = Device.objects.filter(pk=instance.pk)
    elif action == "pre_clear":
        devices = Device.objects.filter(direct_profiles=instance)
    else:
        devices = Device.objects.filter(pk__in=pk_set or ())
    _profile_devices_changed(devices)


@receiver(pre_delete, sender=Profile, dispatch_uid="mdm.profile_deleted")
def profile_deleted(sender, instance, **kwargs):
    if instance.kind == Profile.Kind.CONFIGURATION:
        _profile_devices_changed(profile_delivery.devices_reached(instance))


@receiver(user_signals.count_enrolled_devices, sender=ManagedUser, dispatch_uid="mdm.count")
def count_enrolled_devices(sender, users, **kwargs) -> int:
    return Device.objects.filter(user__in=users).exclude(status=Device.Status.UNENROLLED).count()


# Apps: a changed tag set or direct device list of an app changes who should hold it and which
# devices should have it.
@receiver(m2m_changed, sender=App.tags.through, dispatch_uid="mdm.app_tags")
def app_tags_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in _TAG_ACTIONS:
        return
    if not reverse:
        apps, tag_ids = (
            [instance],
            list(instance.tags.values_list("pk", flat=True)) + list(pk_set or ()),
        )
    else:  # tag.apps.add(...): instance is the tag
        apps, tag_ids = list(App.objects.filter(pk__in=pk_set or ())), [instance.pk]
        if action == "pre_clear":
            apps = list(instance.apps.all())
    if not apps:
        return
    tenant_id = apps[0].tenant_id
    tasks.push_after_commit(desired.mark_changed(desired.devices_with_tags(tenant_id, tag_ids)))
    tasks.licences_after_commit(tenant_id, [app.pk for app in apps])


@receiver(m2m_changed, sender=App.devices.through, dispatch_uid="mdm.app_devices")
def app_devices_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if not reverse:
        app_ids = [instance.pk]
        devices = Device.objects.filter(pk__in=pk_set or ())
        if action == "pre_clear":
            devices = instance.devices.all()
    else:
        app_ids = (
            list(pk_set or ())
            if action != "pre_clear"
            else list(instance.direct_apps.values_list("pk", flat=True))
        )
        devices = Device.objects.filter(pk=instance.pk)
    tasks.push_after_commit(desired.mark_changed(devices))
    tasks.licences_after_commit(instance.tenant_id, app_ids)


@receiver(vpp_event_settled, sender=VppEvent, dispatch_uid="mdm.licence_jobs")
def licence_job_settled(sender, event, assignments=None, **kwargs):
    """Apple settled a job: new licences reach the users' devices (InstallApplication at their
    next connect); users Apple has just registered get their waiting licences sent."""
    if event.event_type == "USER_CREATE":
        tasks.licences_after_commit(event.tenant_id, licences.apps_waiting(event.tenant_id))
        return
    user_ids = licences.apply_event(event, assignments)
    if user_ids:
        tasks.push_after_commit(desired.mark_changed(Device.objects.filter(user_id__in=user_ids)))


@receiver(enrollment_signals.self_service_url, sender=Tenant, dispatch_uid="mdm.self_service_url")
def self_service_url(sender, tenant, **kwargs) -> str:
    return settings.PORTAL_BASE_URL + reverse("enduser-apps:index", args=[tenant.number])
