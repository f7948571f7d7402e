"""What the app and tag pages show about an app's reach: the users it reaches, its licence
counts, and whether the licences suffice — read-only queries, no Apple calls.

``users_reached`` follows the rule of ``mdm.licences.desired_user_ids`` (who should hold an
app) but takes the tags and installation mode as arguments, so a form can tell before saving
what a change would need."""

from dataclasses import dataclass

from django.db.models import Q

from users.models import ManagedUser

from .licences import MANAGEABLE
from .models import App


def users_reached(app, tag_ids=None, install_mode=None):
    """The active users that should hold ``app`` (with ``tag_ids`` and ``install_mode``
    instead of its own, to see what a change would do before it is made)."""
    if tag_ids is None:
        tag_ids = list(app.tags.values_list("pk", flat=True)) if app.pk else []
    install_mode = install_mode or app.install_mode
    managed_device = Q(devices__status__in=MANAGEABLE)
    reach = Q(pk__in=[])
    if app.pk:
        reach |= Q(app_licences__app=app, app_licences__requested=True)
        reach |= managed_device & Q(devices__direct_apps=app)
    if install_mode == App.InstallMode.AUTOMATIC and tag_ids:
        reach |= Q(tags__in=tag_ids) | (managed_device & Q(devices__tags__in=tag_ids))
    return (
        ManagedUser.objects.filter(tenant_id=app.tenant_id, is_active=True).filter(reach).distinct()
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


def licence_counts(app, tag_ids=None, install_mode=None) -> LicenceCounts:
    asset = app.asset
    return LicenceCounts(
        total=asset.total_count if asset else None,
        assigned=asset.assigned_count if asset else None,
        available=asset.available_count if asset else None,
        reached=users_reached(app, tag_ids, install_mode).count(),
    )


def apps_of_tag(tag):
    return App.objects.filter(tenant_id=tag.tenant_id, tags=tag).select_related("asset")
