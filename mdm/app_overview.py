"""What the app and tag pages show about an app's reach: the users it reaches, its licence
counts, and whether the licences suffice — read-only queries, no Apple calls."""

from dataclasses import dataclass

from django.db.models import Q

from users.models import ManagedUser

from .models import App


def reach_filter(tag_ids, app=None) -> Q:
    """Managed users an app with these tags reaches: tagged themselves or through one of their
    devices, with a device the app is assigned to directly, or asking for it (self-service)."""
    tag_ids = list(tag_ids)
    reach = Q(tags__in=tag_ids) | Q(devices__tags__in=tag_ids)
    if app is not None and app.pk:
        reach |= Q(devices__direct_apps=app) | Q(
            app_licences__app=app, app_licences__requested=True
        )
    return reach


def users_reached(app, tag_ids=None):
    """The active users that should hold ``app`` (with ``tag_ids`` instead of its tags, to see
    what a change would do before it is made)."""
    if tag_ids is None:
        tag_ids = app.tags.values_list("pk", flat=True)
    return (
        ManagedUser.objects.filter(tenant_id=app.tenant_id, is_active=True)
        .filter(reach_filter(tag_ids, app))
        .distinct()
    )


@dataclass
class LicenceCounts:
    total: int | None
    assigned: int | None
    available: int | None
    reached: int

    @property
    def shortfall(self) -> int:
        """Users beyond the licences bought (0 when they suffice or nothing is known)."""
        if self.total is None:
            return 0
        return max(0, self.reached - self.total)


def licence_counts(app, tag_ids=None) -> LicenceCounts:
    asset = app.asset
    return LicenceCounts(
        total=asset.total_count if asset else None,
        assigned=asset.assigned_count if asset else None,
        available=asset.available_count if asset else None,
        reached=users_reached(app, tag_ids).count(),
    )


def apps_of_tag(tag):
    return App.objects.filter(tenant_id=tag.tenant_id, tags=tag).select_related("asset")
