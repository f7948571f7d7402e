"""Apps and Books tokens of tenants: upload (validate with Apple, claim the location), asset
sync, and the checks the beat task runs.

One MDM should manage a location. If ``client/config`` names another MDM in ``mdmInfo``, the
upload stops and the admin must confirm the takeover; a later check that finds another MDM
marks the token *claimed* instead of fighting over it.
"""

import hashlib
import secrets
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import VppAsset, VppEvent, VppToken
from . import token_file
from .client import DataChangedError, VppClient, VppError, VppTokenError

PRODUCT_NAME = "MDM Portal"


class VppUploadError(ValueError):
    pass


class ClaimedByOtherMdm(VppUploadError):
    def __init__(self, name: str):
        super().__init__(
            _(
                "This location is managed by another MDM (%(name)s). Taking it over stops that "
                "MDM from assigning licences; confirm to continue."
            )
            % {"name": name or _("unnamed")}
        )
        self.name = name


def notification_url(mdm_id) -> str:
    return settings.PORTAL_BASE_URL + reverse("apple-vpp-notifications", args=[mdm_id])


def _client(text: str, *, interactive: bool = False) -> VppClient:
    # An admin waiting on an upload gets an answer within seconds; tasks may wait for Apple.
    return VppClient(text, max_retries=2, max_wait=10) if interactive else VppClient(text)


def _mdm_metadata() -> str:
    return urlsplit(settings.PORTAL_BASE_URL).hostname or PRODUCT_NAME


def _apply_config(row: VppToken, config: dict) -> None:
    row.location_name = str(config.get("locationName", ""))[:200]
    row.country = str(config.get("countryISO2ACode", ""))[:2]
    row.location_uid = str(config.get("uId", ""))[:64]


def upload(tenant, data: bytes, *, confirm_takeover: bool = False) -> VppToken:
    """Validate a .vpptoken with Apple, claim its location for this tenant, store it encrypted.
    Any error leaves the stored token untouched."""
    parsed = token_file.parse(data)
    if parsed.expires_at <= timezone.now():
        raise VppUploadError(
            _("This token expired on %(date)s. Download a new one in Apple Business Manager.")
            % {"date": parsed.expires_at.date()}
        )
    if VppToken.objects.filter(token_sha256=parsed.sha256).exclude(tenant=tenant).exists():
        raise VppUploadError(_("This token is already used by another tenant of this portal."))
    current = VppToken.objects.filter(tenant=tenant).first()
    mdm_id = current.mdm_id if current else uuid.uuid4()
    notification_token = secrets.token_urlsafe(32)
    with _client(parsed.text, interactive=True) as client:
        try:
            config = client.client_config()
            other = config.get("mdmInfo") or {}
            if other.get("id") and other.get("id") != str(mdm_id) and not confirm_takeover:
                raise ClaimedByOtherMdm(other.get("name", ""))
            config = client.claim(
                str(mdm_id),
                PRODUCT_NAME,
                notification_url(mdm_id),
                notification_token,
                metadata=_mdm_metadata(),
            )
        except VppTokenError as exc:
            raise VppUploadError(
                _("Apple refused the token (%(status)s): %(error)s")
                % {"status": exc.token_status, "error": exc}
            ) from exc
        except VppError as exc:
            raise VppUploadError(
                _("Apple's Apps and Books service could not be reached: %(error)s") % {"error": exc}
            ) from exc
    with transaction.atomic():
        row = VppToken.objects.select_for_update().filter(tenant=tenant).first() or VppToken(
            tenant=tenant, mdm_id=mdm_id
        )
        row.token = parsed.text
        row.token_sha256 = parsed.sha256
        row.org_name = parsed.org_name[:200]
        row.expires_at = parsed.expires_at
        row.status = VppToken.Status.VALID
        row.other_mdm_name = ""
        row.notification_token_hash = hashlib.sha256(notification_token.encode()).hexdigest()
        row.last_error = ""
        row.warnings_sent = []
        _apply_config(row, config)
        row.save()
    from ..tasks import sync_vpp_assets

    transaction.on_commit(lambda: sync_vpp_assets.delay(row.pk))
    return row


def _mark(row: VppToken, status: str, error: str = "", other: str = "") -> None:
    VppToken.objects.filter(pk=row.pk).update(
        status=status, last_error=error[:300], other_mdm_name=other[:200], updated_at=timezone.now()
    )


def check(row: VppToken) -> str:
    """Re-read the location's config: expired, revoked, replaced or claimed by another MDM?"""
    if row.expires_at <= timezone.now():
        _mark(row, VppToken.Status.EXPIRED)
        return VppToken.Status.EXPIRED
    try:
        with _client(row.token) as client:
            config = client.client_config()
    except VppTokenError as exc:
        status = {"expired": VppToken.Status.EXPIRED, "revoked": VppToken.Status.REVOKED}.get(
            exc.token_status, VppToken.Status.INVALID
        )
        _mark(row, status, str(exc))
        return status
    except VppError as exc:
        VppToken.objects.filter(pk=row.pk).update(last_error=str(exc)[:300])
        return row.status
    other = config.get("mdmInfo") or {}
    if other.get("id") and other.get("id") != str(row.mdm_id):
        _mark(row, VppToken.Status.CLAIMED, other=other.get("name", ""))
        return VppToken.Status.CLAIMED
    _mark(row, VppToken.Status.VALID)
    return VppToken.Status.VALID


def sync_assets(row: VppToken, *, attempts: int = 3) -> int:
    """Replace the stored assets with what Apple lists now; returns how many there are."""
    for attempt in range(attempts):
        try:
            with _client(row.token) as client:
                assets = list(client.iter_assets())
            break
        except DataChangedError:
            if attempt == attempts - 1:
                raise
        except VppTokenError as exc:
            check(row)
            raise VppError(str(exc), error_number=exc.error_number) from exc
    with transaction.atomic():
        count = _store_assets(row, assets)
        VppToken.objects.filter(pk=row.pk).update(last_synced_at=timezone.now(), last_error="")
    return count


ASSET_FIELDS = {
    # model field: (Apple's key, default)
    "product_type": ("productType", ""),
    "assigned_count": ("assignedCount", 0),
    "available_count": ("availableCount", 0),
    "retired_count": ("retiredCount", 0),
    "total_count": ("totalCount", 0),
    "device_assignable": ("deviceAssignable", True),
    "revocable": ("revocable", True),
    "supported_platforms": ("supportedPlatforms", []),
}


def _store_assets(row: VppToken, assets: list[dict]) -> int:
    """Create, update and delete in bulk; a location can own thousands of apps and books."""
    existing = {(a.adam_id, a.pricing_param): a for a in VppAsset.objects.filter(token=row)}
    new, changed, seen = [], [], set()
    for item in assets:
        key = (str(item["adamId"]), str(item.get("pricingParam", "")))
        if key in seen:
            continue  # Apple lists each asset once; be safe against a repeated page
        seen.add(key)
        values = {field: item.get(name, default) for field, (name, default) in ASSET_FIELDS.items()}
        asset = existing.get(key)
        if asset is None:
            new.append(
                VppAsset(
                    tenant=row.tenant, token=row, adam_id=key[0], pricing_param=key[1], **values
                )
            )
        elif any(getattr(asset, f) != v for f, v in values.items()):
            for field, value in values.items():
                setattr(asset, field, value)
            asset.updated_at = timezone.now()
            changed.append(asset)
    VppAsset.objects.bulk_create(new, batch_size=500)
    _update_rows(changed, [*ASSET_FIELDS, "updated_at"])
    gone = [a.pk for key, a in existing.items() if key not in seen]
    for start in range(0, len(gone), 500):
        VppAsset.objects.filter(pk__in=gone[start : start + 500]).delete()
    return len(seen)


def record_event(row: VppToken, response: dict, event_type: str) -> VppEvent | None:
    """Remember an asynchronous job Apple accepted (``{"eventId": ...}``) so its outcome, from
    a notification or from ``refresh_events``, can be looked up by ``event_id``."""
    event_id = str(response.get("eventId") or "")
    if not event_id:
        return None
    event, _created = VppEvent.objects.get_or_create(
        event_id=event_id,
        defaults={"tenant": row.tenant, "token": row, "event_type": event_type[:32]},
    )
    return event


def apply_event_status(event: VppEvent, data: dict) -> None:
    event.status = str(data.get("eventStatus") or event.status)[:16]
    event.event_type = str(data.get("eventType") or event.event_type)[:32]
    event.num_completed = int(data.get("numCompleted") or 0)
    event.num_requested = int(data.get("numRequested") or 0)
    event.failures = list(data.get("failures") or [])
    event.save()


def refresh_events(row: VppToken) -> int:
    """Ask Apple (``GET status``) about jobs still pending, e.g. when a notification was lost.
    Returns how many are finished now."""
    pending = list(VppEvent.objects.filter(token=row, status="PENDING"))
    if not pending:
        return 0
    finished = 0
    with _client(row.token) as client:
        for event in pending:
            try:
                data = client.event_status(event.event_id)
            except VppTokenError:
                raise  # the token, not the event, is the problem: the caller checks it
            except VppError as exc:
                # An unknown event (9602) will never finish; anything else is asked again.
                if exc.error_number == 9602:
                    apply_event_status(event, {"eventStatus": "FAILED", "failures": [str(exc)]})
                    finished += 1
                continue
            apply_event_status(event, data)
            finished += event.status != "PENDING"
    return finished


def _update_rows(rows: list[VppAsset], fields: list[str]) -> None:
    """One prepared UPDATE run for every row (executemany). Django's bulk_update builds a CASE
    expression per field and row, which costs ~1 ms a row in Python alone."""
    if not rows:
        return
    meta = VppAsset._meta
    model_fields = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    # Only quoted identifiers from the model's own metadata are formatted in; values are bound.
    sql = "UPDATE {} SET {} WHERE {} = %s".format(  # noqa: S608
        quote(meta.db_table),
        ", ".join(f"{quote(f.column)} = %s" for f in model_fields),
        quote(meta.pk.column),
    )
    params = [
        [f.get_db_prep_save(getattr(row, f.attname), connection) for f in model_fields] + [row.pk]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
