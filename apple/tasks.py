"""Celery tasks of the apple app; idempotent and safe to retry."""

import logging

from celery import shared_task
from django.db import transaction

from . import expiry_mails
from .models import VppToken
from .vpp import assets, events, tokens
from .vpp.client import VppError

log = logging.getLogger("apple.tasks")


@shared_task
def warn_expiring_push_certificates() -> int:
    return expiry_mails.warn_push_certificates()


@shared_task
def check_vpp_tokens() -> int:
    """Nightly-ish: expiry mails, token state with Apple, jobs whose notification never came,
    and a fresh asset list."""
    expiry_mails.warn_vpp_tokens()
    checked = 0
    for row in VppToken.objects.select_related("tenant"):
        if tokens.check(row) == VppToken.Status.VALID:
            try:
                events.refresh_events(row)
            except VppError as exc:
                log.warning("event status of token %s not read: %s", row.pk, exc)
            sync_vpp_assets.delay(row.pk)
        checked += 1
    return checked


@shared_task
def sync_vpp_assets(token_id: int) -> int:
    """On upload, on demand, after notifications and with the periodic check. A failure is
    shown on the settings page; the next run (at the latest the periodic one) tries again."""
    row = VppToken.objects.filter(pk=token_id).select_related("tenant").first()
    if row is None or row.status != VppToken.Status.VALID:
        return 0
    try:
        return assets.sync_assets(row)
    except VppError as exc:
        log.warning("asset sync of token %s failed: %s", token_id, exc)
        VppToken.objects.filter(pk=token_id).update(last_error=str(exc)[:300])
        return 0


def sync_vpp_assets_after_commit(row: VppToken) -> None:
    """For the callers of ``tokens.upload`` and the notification endpoint."""
    token_id = row.pk
    transaction.on_commit(lambda: sync_vpp_assets.delay(token_id))
