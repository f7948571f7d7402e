"""After an admin changes who gets an app (its tags, its direct devices, the app itself): the
devices it reached before and reaches now are marked due for reconciliation; the caller pushes
them after commit (``mdm.tasks.push_after_commit``)."""

from django.db.models import Q

from . import desired
from .models import Device


def reach_of(app, tag_ids=None) -> set[int]:
    """Ids of the devices ``app`` reaches: through tags (the device's or its user's), directly,
    or through a self-service request of the device's user."""
    if tag_ids is None:
        tag_ids = list(app.tags.values_list("pk", flat=True))
    reach = Q(tags__in=tag_ids) | Q(user__tags__in=tag_ids)
    if app.pk:
        reach |= Q(direct_apps=app) | Q(
            user__app_licences__app=app, user__app_licences__requested=True
        )
    return set(
        Device.objects.filter(tenant_id=app.tenant_id).filter(reach).values_list("pk", flat=True)
    )


def app_changed(app, reached_before: set[int]) -> list[int]:
    """Mark the devices reached before or now as due; returns the ids to push."""
    return desired.mark_changed(sorted(reached_before | reach_of(app)))
