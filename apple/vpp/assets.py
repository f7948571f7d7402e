"""The assets (apps and books) a location bought: synchronised from Apple in bulk."""

from django.db import connection, transaction
from django.utils import timezone

from ..models import VppAsset, VppToken
from .client import DataChangedError, VppError, VppTokenError
from .tokens import check, client_for


def sync_assets(row: VppToken, *, attempts: int = 3) -> int:
    """Replace the stored assets with what Apple lists now; returns how many there are."""
    for attempt in range(attempts):
        try:
            with client_for(row.token) as client:
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
