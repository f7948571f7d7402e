"""The tenant's app catalogue: apps added from the synced Apps and Books assets, their
settings (installation, management flags, managed app configuration) and licence counts.

Services for the pages and the API; whatever must reach Apple or devices afterwards is the
caller's to enqueue after commit (``changed_after_commit``): licences (``mdm.licences``),
metadata (``refresh_metadata``), and the devices marked due.
"""

import json

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apple import plist
from apple.models import VppAsset, VppUser
from apple.vpp import metadata

from . import desired, queue
from .app_installations import install_arguments
from .commands.applications import InstallApplication, RemoveApplication
from .models import App, AppInstallation, Device, Licence

MAX_CONFIGURATION_BYTES = 64 * 1024
DEFAULT_SETTINGS = {
    "install_mode": App.InstallMode.AUTOMATIC,
    "remove_on_unenroll": True,
    "prevent_backup": False,
}


SETTINGS = ("name", "install_mode", "remove_on_unenroll", "prevent_backup", "configuration")


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
    """Assets to offer under *Add app*: adamId, name (from metadata when Apple answers),
    licence counts and whether the catalogue has it already."""
    assets = list(assets_for(tenant)[: limit * 4] if search else assets_for(tenant)[:limit])
    token = assets[0].token if assets else None
    names = (
        metadata.lookup(
            [a.adam_id for a in assets],
            token_text=token.token if token else "",
            country=token.country if token else "",
        )
        if assets
        else {}
    )
    in_catalogue = set(
        App.objects.filter(tenant=tenant, adam_id__in=[a.adam_id for a in assets]).values_list(
            "adam_id", flat=True
        )
    )
    rows = []
    for asset in assets:
        name = names.get(asset.adam_id, {}).get("name", "")
        needle = search.strip().lower()
        if needle and needle not in name.lower() and not asset.adam_id.startswith(needle):
            continue
        rows.append(
            {
                "adam_id": asset.adam_id,
                "name": name,
                "icon_url": names.get(asset.adam_id, {}).get("icon_url", ""),
                "total": asset.total_count,
                "assigned": asset.assigned_count,
                "available": asset.available_count,
                "in_catalogue": asset.adam_id in in_catalogue,
            }
        )
    return rows[:limit]


def validate_configuration(value) -> dict:
    """A managed app configuration: a dictionary that makes a property list (strings, numbers,
    booleans, dates, data, arrays and dictionaries with string keys; no NUL; nesting and size
    capped). ``$USERNAME``, ``$EMAIL`` and ``$MANAGED_APPLE_ID`` are replaced per device."""
    if value in (None, ""):
        return {}
    if isinstance(value, str):
        try:
            value = (
                json.loads(value)
                if value.lstrip().startswith("{")
                else plist.loads(value.encode(), reject_nul=True)
            )
        except (ValueError, plist.PlistError) as exc:
            raise CatalogueError(
                _("The configuration is neither a JSON object nor a property list.")
            ) from exc
    if not isinstance(value, dict):
        raise CatalogueError(_("The configuration must be a dictionary."))
    try:
        _check_plist_value(value, 0)
        plist.check_strings(value)
        size = len(plist.dumps(value))
    except (plist.PlistError, TypeError, ValueError, OverflowError) as exc:
        raise CatalogueError(
            _("The configuration cannot be a property list: %(reason)s") % {"reason": exc}
        ) from exc
    if size > MAX_CONFIGURATION_BYTES:
        raise CatalogueError(_("The configuration is too large (64 KB at most)."))
    return value


def _check_plist_value(value, depth: int) -> None:
    if depth > plist.MAX_DEPTH:
        raise ValueError("nested too deeply")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError("keys must be strings")
            _check_plist_value(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_plist_value(item, depth + 1)
    elif value is None:
        raise ValueError("null has no property list form")
    elif isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**64:
        raise ValueError("integer out of range")


def add_app(tenant, adam_id: str, **settings) -> App:
    """Add an app of the tenant's synced assets to the catalogue (once: adding it again
    answers the app already there). The caller refreshes its metadata after commit."""
    adam_id = str(adam_id).strip()
    if not adam_id.isdigit():
        raise CatalogueError(_("An app's Apple ID (adamId) is a number."))
    asset = assets_for(tenant).filter(adam_id=adam_id).first()
    if asset is None:
        raise CatalogueError(
            _(
                "The Apps and Books token has no licences for app %(id)s: buy it in Apple Business "
                "Manager, then sync the assets."
            )
            % {"id": adam_id}
        )
    values = {**DEFAULT_SETTINGS, **settings}
    if "configuration" in values:
        values["configuration"] = validate_configuration(values["configuration"])
    app, _created = App.objects.get_or_create(
        tenant=tenant, adam_id=adam_id, defaults={"asset": asset, **values}
    )
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


def update_settings(app: App, **changes) -> list[int]:
    """Change installation, flags or configuration; returns the devices to push (marked due,
    since InstallApplication sent again updates flags and configuration)."""
    if "configuration" in changes:
        changes["configuration"] = validate_configuration(changes["configuration"])
    fields = [k for k in changes if k in SETTINGS]
    for key in fields:
        setattr(app, key, changes[key])
    app.save(update_fields=[*fields, "updated_at"])
    if {"remove_on_unenroll", "prevent_backup", "configuration"} & set(fields):
        # InstallApplication sent again updates an installed app's flags and configuration.
        for installation in AppInstallation.objects.filter(
            app=app, state__in=(AppInstallation.State.INSTALLED, AppInstallation.State.INSTALLING)
        ).select_related("device"):
            if installation.device.is_manageable:
                installation.command = queue.enqueue(
                    installation.device, InstallApplication(install_arguments(app))
                )
                installation.state = AppInstallation.State.QUEUED
                installation.save(update_fields=["command", "state", "updated_at"])
    return desired.mark_changed(devices_of(app))


def devices_of(app: App):
    """Every device the app reaches or has reached (for marking them due)."""
    tag_ids = list(app.tags.values_list("pk", flat=True))
    return Device.objects.filter(
        Q(pk__in=desired.devices_with_tags(app.tenant_id, tag_ids).values("pk"))
        | Q(direct_apps=app)
        | Q(app_installations__app=app)
        | Q(user__app_licences__app=app)
    )


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


def licence_counts(app: App) -> dict:
    """Licences bought, assigned and available (Apple's asset counts, kept current between
    syncs by the assignments), and the app's users by licence state."""
    asset = app.asset
    states = dict(
        Licence.objects.filter(app=app).values_list("state").annotate(n=Count("pk")).order_by()
    )
    return {
        "total": asset.total_count if asset else 0,
        "assigned": asset.assigned_count if asset else 0,
        "available": asset.available_count if asset else 0,
        "users": {state: states.get(state, 0) for state in Licence.State.values},
    }
