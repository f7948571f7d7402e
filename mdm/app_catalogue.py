"""The tenant's app catalogue: apps added from the synced Apps and Books assets, their
settings (installation, management flags, managed app configuration, tags, devices). The one
way pages, API and tasks change it.

Whatever must reach Apple or devices afterwards is the caller's to enqueue after commit
(``mdm.tasks.catalogue_changed_after_commit``): licences (``mdm.licences``), metadata
(``refresh_metadata``), and the devices marked due. Who an app reaches and its licence counts:
``mdm.app_reach``; the configuration's forms: ``mdm.app_configuration``.
"""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apple.models import VppAsset, VppUser
from apple.vpp import metadata
from users.tags import tags_for_names

from . import app_configuration, app_delivery, app_reach, desired, queue
from .commands.applications import RemoveApplication
from .models import App, AppInstallation, Device, Licence

DEFAULT_SETTINGS = {
    "install_mode": App.InstallMode.AUTOMATIC,
    "remove_on_unenroll": True,
    "prevent_backup": False,
}
SETTINGS = ("name", "install_mode", "remove_on_unenroll", "prevent_backup", "configuration")
# Flags and configuration reach installed apps only by InstallApplication sent again.
RESENT = {"remove_on_unenroll", "prevent_backup", "configuration"}


class CatalogueError(ValueError):
    """Refused input; the message is for a person."""


def assets_for(tenant, search: str = ""):
    """The tenant's app assets (not books), matched by adamId or by the name of the catalogue
    app already made of them."""
    assets = VppAsset.objects.filter(tenant=tenant).exclude(product_type="Book")
    search = search.strip()
    if search:
        assets = assets.filter(Q(adam_id__startswith=search) | Q(apps__name__icontains=search))
    return assets.select_related("token").distinct()


def search_assets(tenant, search: str = "", limit: int = 50) -> list[dict]:
    """Assets to offer under *Add app*, one per adamId: name (Apple's metadata, else the
    catalogue's, else empty), icon, platforms, licence counts and whether the catalogue has it.
    A search matches the start of the adamId or a part of the name, also of assets not added
    yet (among the first ``4 * limit`` assets, whose names Apple's lookup gives)."""
    needle = search.strip().lower()
    order = ("adam_id", "-total_count")  # of one adamId under several tokens, the largest
    candidates = list(assets_for(tenant).order_by(*order)[: limit * 4])
    if needle:
        candidates = list(assets_for(tenant, needle).order_by(*order)[:limit]) + candidates
    unique = {}
    for asset in candidates:
        unique.setdefault(asset.adam_id, asset)
    assets = sorted(unique.values(), key=lambda asset: asset.adam_id)
    adam_ids = [asset.adam_id for asset in assets]
    token = assets[0].token if assets else None
    found = (
        metadata.lookup(adam_ids, token_text=token.token, country=token.country) if token else {}
    )
    catalogue = dict(
        App.objects.filter(tenant=tenant, adam_id__in=adam_ids).values_list("adam_id", "name")
    )
    rows = []
    for asset in assets:
        meta = found.get(asset.adam_id, {})
        name = meta.get("name") or catalogue.get(asset.adam_id) or ""
        if needle and needle not in name.lower() and not asset.adam_id.startswith(needle):
            continue
        rows.append(
            {
                "adam_id": asset.adam_id,
                "name": name,
                "icon_url": meta.get("icon_url", ""),
                "platforms": list(asset.supported_platforms or []),
                "total": asset.total_count,
                "assigned": asset.assigned_count,
                "available": asset.available_count,
                "in_catalogue": asset.adam_id in catalogue,
            }
        )
    return rows[:limit]


def asset_to_add(tenant, adam_id: str) -> VppAsset:
    """The synced asset an app of this adamId is made of (the one with most licences)."""
    adam_id = str(adam_id).strip()
    if not adam_id.isdigit():
        raise CatalogueError(_("An app's Apple ID (adamId) is a number."))
    asset = assets_for(tenant).filter(adam_id=adam_id).order_by("-total_count").first()
    if asset is None:
        raise CatalogueError(
            _(
                "Pick an app from the search: the Apps and Books token has no licences for app "
                "%(id)s (buy it in Apple Business Manager, then sync the assets)."
            )
            % {"id": adam_id}
        )
    return asset


def _configuration(value) -> dict:
    try:
        return app_configuration.parse(value)
    except app_configuration.ConfigurationError as exc:
        raise CatalogueError(str(exc)) from exc


def _set_relations(app: App, tags, devices) -> None:
    """Tags by name (created when new) and direct devices by id; ``mdm.receivers`` follows
    the change (devices due, licences)."""
    if tags is not None:
        app.tags.set(tags_for_names(app.tenant, tags))
    if devices is not None:
        app.devices.set(Device.objects.filter(tenant_id=app.tenant_id, pk__in=list(devices)))


def add_app(tenant, adam_id: str, *, tags=None, devices=None, **settings) -> App:
    """Add an app of the tenant's synced assets to the catalogue (once: adding it again
    answers the app already there, with these tags and devices). Until the caller's metadata
    refresh after commit (``refresh_metadata``) it shows its adamId and the asset's platforms."""
    asset = asset_to_add(tenant, adam_id)
    values = {**DEFAULT_SETTINGS, **settings}
    if "configuration" in values:
        values["configuration"] = _configuration(values["configuration"])
    app, _created = App.objects.get_or_create(
        tenant=tenant,
        adam_id=asset.adam_id,
        defaults={"asset": asset, "platforms": list(asset.supported_platforms or []), **values},
    )
    _set_relations(app, tags, devices)
    return app


def refresh_metadata(app: App) -> bool:
    """Name, bundle id, icon, version and platforms from Apple's lookup; False (app unchanged)
    when the lookup fails."""
    token = app.asset.token if app.asset_id else None
    found = metadata.lookup(
        [app.adam_id],
        token_text=token.token if token else "",
        country=token.country if token else "",
    ).get(app.adam_id)
    if not found:
        return False
    values = {k: v for k, v in found.items() if v}
    App.objects.filter(pk=app.pk).update(
        **values, metadata_fetched_at=timezone.now(), updated_at=timezone.now()
    )
    for key, value in values.items():
        setattr(app, key, value)
    return True


def update_settings(app: App, *, tags=None, devices=None, **changes) -> list[int]:
    """Change installation, flags, configuration, tags (names) or direct devices (ids);
    returns the devices to push: those the app reaches or reached, marked due."""
    if "configuration" in changes:
        changes["configuration"] = _configuration(changes["configuration"])
    fields = [k for k in changes if k in SETTINGS]
    for key in fields:
        setattr(app, key, changes[key])
    app.save(update_fields=[*fields, "updated_at"])
    if RESENT & set(fields):
        app_delivery.resend(AppInstallation.objects.filter(app=app))
    _set_relations(app, tags, devices)
    return desired.mark_changed(app_reach.devices_reached(app))


def delete_app(app: App) -> tuple[list[int], dict | None]:
    """Remove the app from the catalogue: RemoveApplication is queued for the devices that
    have it (at their next connect, from their desired state); returns (devices to push,
    what to release at Apple: ``{"token_id", "adam_id", "pricing_param", "client_user_ids"}``
    for ``mdm.tasks.release_licences``)."""
    with transaction.atomic():
        held = list(
            Licence.objects.filter(app=app)
            .exclude(state__in=(Licence.State.NO_LICENCE, Licence.State.NO_APPLE_ID))
            .values_list("user_id", flat=True)
        )
        release = None
        if app.asset_id and held:
            release = {
                "token_id": app.asset.token_id,
                "adam_id": app.asset.adam_id,
                "pricing_param": app.asset.pricing_param,
                "client_user_ids": list(
                    VppUser.objects.filter(
                        token_id=app.asset.token_id, user_id__in=held
                    ).values_list("client_user_id", flat=True)
                ),
            }
        pushed = _remove_everywhere(app)
        app.delete()
    return pushed, release


def _remove_everywhere(app: App) -> list[int]:
    pushed = []
    for installation in AppInstallation.objects.filter(
        app=app, state__in=(AppInstallation.State.INSTALLED, AppInstallation.State.INSTALLING)
    ).select_related("device"):
        identifier = installation.identifier or app.bundle_id
        if identifier and installation.device.is_manageable:
            queue.enqueue(installation.device, RemoveApplication({"Identifier": identifier}))
            pushed.append(installation.device_id)
    return pushed
