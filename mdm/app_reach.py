"""Whom and what an app reaches, and whether its licences suffice: the one rule of who should
hold an app, used by the licence service (``mdm.licences.plan``), the catalogue services, the
pages and the API. Read-only queries, no Apple calls.

A user should hold an app while one reason stands: one of their tags or one of their enrolled
devices' tags is the app's (apps installed automatically), one of their enrolled devices has
the app directly, or they asked for it on the self-service page (``Licence.requested``).
"""

from dataclasses import dataclass, field

from django.db.models import Count, Q

from users.models import ManagedUser

from . import desired
from .models import App, Device, Licence

MANAGEABLE = (Device.Status.AUTHENTICATED, Device.Status.ENROLLED)


def user_ids_reached(app: App, tag_ids=None, install_mode=None) -> set[int]:
    """Active users with a reason to hold ``app``; with ``tag_ids`` and ``install_mode``
    instead of its own, what a change would do before it is made (the app may be unsaved)."""
    if tag_ids is None:
        tag_ids = list(app.tags.values_list("pk", flat=True)) if app.pk else []
    install_mode = install_mode or app.install_mode
    devices = Device.objects.filter(
        tenant_id=app.tenant_id, status__in=MANAGEABLE, user__is_active=True
    )
    ids = set()
    if app.pk:
        ids.update(
            Licence.objects.filter(app=app, requested=True, user__is_active=True).values_list(
                "user_id", flat=True
            )
        )
        ids.update(devices.filter(direct_apps=app).values_list("user_id", flat=True))
    if install_mode == App.InstallMode.AUTOMATIC and tag_ids:
        ids.update(
            ManagedUser.objects.filter(
                tenant_id=app.tenant_id, is_active=True, tags__in=tag_ids
            ).values_list("pk", flat=True)
        )
        ids.update(devices.filter(tags__in=tag_ids).values_list("user_id", flat=True))
    ids.discard(None)
    return ids


def devices_reached(app: App):
    """Every device the app reaches or has reached: through tags (the device's or its user's),
    directly, through its user's licence, or with an installation of it (to mark them due)."""
    tag_ids = list(app.tags.values_list("pk", flat=True))
    return Device.objects.filter(
        Q(pk__in=desired.devices_with_tags(app.tenant_id, tag_ids).values("pk"))
        | Q(direct_apps=app)
        | Q(app_installations__app=app)
        | Q(user__app_licences__app=app)
    )


@dataclass
class LicenceCounts:
    """Apple's counts of the app's asset (None when nothing is synced), kept current between
    syncs by the assignments; the users the app reaches and its users by licence state."""

    total: int | None
    assigned: int | None
    available: int | None
    reached: int
    users: dict = field(default_factory=dict)

    @property
    def shortfall(self) -> int:
        """Users beyond the licences bought (0 when they suffice or nothing is known)."""
        if self.total is None:
            return 0
        return max(0, self.reached - self.total)


def licence_counts(app: App, tag_ids=None, install_mode=None) -> LicenceCounts:
    """The app's licence counts; ``tag_ids`` and ``install_mode`` as for ``user_ids_reached``."""
    asset = app.asset
    states = {}
    if app.pk:
        states = dict(
            Licence.objects.filter(app=app).values_list("state").annotate(n=Count("pk")).order_by()
        )
    return LicenceCounts(
        total=asset.total_count if asset else None,
        assigned=asset.assigned_count if asset else None,
        available=asset.available_count if asset else None,
        reached=len(user_ids_reached(app, tag_ids, install_mode)),
        users={state: states.get(state, 0) for state in Licence.State.values},
    )
