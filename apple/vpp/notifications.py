"""Notifications Apple posts to the location's ``notificationUrl`` (adue-protocol.md §7.3).

Authenticated by the bearer token we gave Apple when claiming the location (compared in
constant time). Apple may deliver a notification twice, so each ``notificationId`` is handled
once (remembered in the cache for a week).
"""

import hashlib
import hmac
import logging

from django.core.cache import cache
from django.db import transaction
from django.db.models import F

from ..models import VppAsset, VppToken
from . import events

log = logging.getLogger("apple.vpp")
SEEN_FOR = 7 * 24 * 3600


def authenticate(row: VppToken, header: str) -> bool:
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw or not row.notification_token_hash:
        return False
    digest = hashlib.sha256(raw.strip().encode()).hexdigest()
    return hmac.compare_digest(digest, row.notification_token_hash)


def handle(row: VppToken, body: dict) -> bool:
    """Apply one notification; True when the token's assets must be synced again (the caller
    queues that after the commit)."""
    notification_id = str(body.get("notificationId", ""))
    if notification_id and not cache.add(f"vpp-notification:{notification_id}", 1, SEEN_FOR):
        return False  # already handled
    kind = body.get("notificationType")
    data = body.get("notification") or {}
    if kind == "ASSET_COUNT":
        delta = int(data.get("countDelta", 0))
        VppAsset.objects.filter(
            token=row, adam_id=str(data.get("adamId")), pricing_param=data.get("pricingParam", "")
        ).update(total_count=F("total_count") + delta, available_count=F("available_count") + delta)
    elif kind == "ASSET_MANAGEMENT":
        with transaction.atomic():
            events.apply_notification(row, data)
        return True
    else:
        log.info("Apps and Books notification %s for token %s", kind, row.pk)
    return False
