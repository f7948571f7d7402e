"""Waking devices with APNs pushes: which devices are owed one, and sending what is owed.

Reliability: a push is owed from ``push_requested_at`` until APNs accepted one sent after that
moment; the mark is cleared only then. A task that dies mid-batch, a lost task message or a
transient APNs error leave the mark in place, and the sweep (``owed_for_sweep``) pushes those
devices again. A duplicate push is harmless (the device just polls); a lost one is not.
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import F, Min, Q
from django.utils import timezone

from apple import apns
from apple.push_certificates import clear_rejection, mark_rejected
from apple.push_identity import current_push_identity

from . import metrics
from .models import Command, Device

log = logging.getLogger("mdm.push")

Outcome = apns.Outcome
APPLE_APNS = "https://api.push.apple.com"


def _pushable():
    return Device.objects.filter(
        status__in=(Device.Status.ENROLLED, Device.Status.REMOVING),
        push_state=Device.PushState.OK,
    ).exclude(push_magic="")


def owe(device_ids) -> list[int]:
    """Mark these devices as owed a push; returns the ones that can be pushed at all."""
    ids = list(_pushable().filter(pk__in=list(device_ids)).values_list("pk", flat=True))
    Device.objects.filter(pk__in=ids, push_requested_at=None).update(
        push_requested_at=timezone.now()
    )
    return ids


@dataclass
class PushReport:
    ok: int = 0
    token_invalid: int = 0
    failed: int = 0
    certificate_refused: list[int] = field(default_factory=list)  # tenant ids
    no_certificate: list[int] = field(default_factory=list)  # tenant ids
    retry: list[int] = field(default_factory=list)  # device ids
    retry_after: float | None = None


# ``_pushable()`` and still owed, as SQL: every push batch (one after each enrollment) looks its
# devices up, and building the query with the ORM took most of a small batch's CPU. A test
# keeps it equal to the queryset. Names come from the model; values are parameters.
_OWED_COLUMNS = ("id", "tenant_id", "push_token", "push_magic")
_OWED = (
    f"SELECT {', '.join(_OWED_COLUMNS)} FROM {Device._meta.db_table} "  # noqa: S608
    "WHERE status IN (%s, %s) AND push_state = %s AND push_magic <> '' "
    "AND push_requested_at IS NOT NULL AND id IN ({ids}) ORDER BY tenant_id, id"
)


def owed_devices(device_ids) -> list[Device]:
    """The devices of ``device_ids`` still owed a push, by tenant (only the columns a push needs)."""
    ids = [int(pk) for pk in device_ids]
    if not ids:
        return []
    statuses = (Device.Status.ENROLLED.value, Device.Status.REMOVING.value)
    params = [*statuses, Device.PushState.OK.value, *ids]
    with connection.cursor() as cursor:
        cursor.execute(_OWED.format(ids=", ".join(["%s"] * len(ids))), params)
        rows = cursor.fetchall()
    return [Device.from_db(connection.alias, _OWED_COLUMNS, row) for row in rows]


def send_owed(device_ids) -> PushReport:
    """Push every device of ``device_ids`` that is still owed a push, one APNs connection per
    push certificate; record each answer on the device."""
    report = PushReport()
    devices = owed_devices(device_ids)
    by_tenant: dict[int, list[Device]] = {}
    for device in devices:
        by_tenant.setdefault(device.tenant_id, []).append(device)
    for tenant_id, group in by_tenant.items():
        _send_tenant(tenant_id, group, report)
    return report


def _send_tenant(tenant_id: int, devices: list[Device], report: PushReport) -> None:
    identity = current_push_identity(tenant_id)
    if identity is None or (identity.is_demo and settings.APNS_BASE_URL == APPLE_APNS):
        # Apple refuses the demo certificate; it is only ever sent to a local peer.
        report.no_certificate.append(tenant_id)
        return
    started = timezone.now()
    clock = time.monotonic()
    results = apns.send(
        identity, [apns.Push(bytes(d.push_token), d.push_magic, ref=d.pk) for d in devices]
    )
    metrics.PUSH_SECONDS.observe(time.monotonic() - clock)
    by_outcome: dict[Outcome, list[apns.PushResult]] = {}
    for result in results:
        by_outcome.setdefault(result.outcome, []).append(result)
        metrics.PUSHES.labels(result.outcome.value).inc()
    ok = [r.push.ref for r in by_outcome.get(Outcome.OK, [])]
    if ok:
        # A request made after this batch started stays owed: it may need a later push.
        Device.objects.filter(pk__in=ok, push_requested_at__lte=started).update(
            push_requested_at=None, last_push_at=started, push_attempts=0, push_error=""
        )
        clear_rejection(tenant_id)
        report.ok += len(ok)
    for result in by_outcome.get(Outcome.TOKEN_INVALID, []):
        Device.objects.filter(pk=result.push.ref).update(
            push_state=Device.PushState.UNREACHABLE,
            push_error=f"{result.status} {result.reason}"[:120],
            push_requested_at=None,
        )
        report.token_invalid += 1
    refused = by_outcome.get(Outcome.CERTIFICATE, [])
    if refused:
        # The certificate is the problem for every device: alert once, keep the pushes owed.
        mark_rejected(tenant_id, f"{refused[0].status} {refused[0].reason}")
        report.certificate_refused.append(tenant_id)
        log.error("APNs refused the push certificate of tenant %s: %s", tenant_id, refused[0])
    retry = by_outcome.get(Outcome.RETRY, [])
    if retry:
        ids = [r.push.ref for r in retry]
        Device.objects.filter(pk__in=ids).update(push_attempts=F("push_attempts") + 1)
        report.retry.extend(ids)
        waits = [r.retry_after for r in retry if r.retry_after]
        if waits:
            report.retry_after = max(waits + [report.retry_after or 0])
    for result in by_outcome.get(Outcome.FAILED, []):
        log.warning(
            "push to device %s failed: %s %s", result.push.ref, result.status, result.reason
        )
        Device.objects.filter(pk=result.push.ref).update(
            push_error=f"{result.status} {result.reason}"[:120], push_requested_at=None
        )
        report.failed += 1


def owed_for_sweep(now=None) -> list[int]:
    """Devices the sweep pushes: owed for a while (a lost task), with commands waiting and not
    polled since, or silent for a day. Marks the latter two as owed."""
    now = now or timezone.now()
    after = timedelta(seconds=settings.MDM_PUSH_SWEEP_AFTER_SECONDS)
    silent = timedelta(seconds=settings.MDM_SILENT_PUSH_SECONDS)
    pushable = _pushable()
    waiting = (
        pushable.filter(push_requested_at=None)
        .filter(commands__status=Command.Status.QUEUED)
        .annotate(oldest=Min("commands__created_at"))
        .filter(oldest__lte=now - after)
        .filter(Q(last_seen_at=None) | Q(last_seen_at__lt=F("oldest")))
        .filter(Q(last_push_at=None) | Q(last_push_at__lte=now - after))
        .values_list("pk", flat=True)
    )
    quiet = (
        pushable.filter(push_requested_at=None, status=Device.Status.ENROLLED)
        .filter(last_seen_at__lte=now - silent)
        .filter(Q(last_push_at=None) | Q(last_push_at__lte=now - silent))
        .values_list("pk", flat=True)
    )
    newly = set(waiting) | set(quiet)
    if newly:
        Device.objects.filter(pk__in=newly).update(push_requested_at=now)
    stale = pushable.filter(push_requested_at__lte=now - after).values_list("pk", flat=True)
    return sorted(newly | set(stale))
