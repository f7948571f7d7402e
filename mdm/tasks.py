"""Celery tasks of mdm: pushes. Tasks call services; idempotent, acknowledged late.

``push_after_commit`` is how handlers, views and receivers ask for a push: it enqueues the
push task once the transaction that queued the work has committed.
"""

import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction

from apple.apns import backoff_seconds

from . import push

log = logging.getLogger("mdm.tasks")


def _chunks(ids: list[int]):
    size = max(1, settings.MDM_PUSH_BATCH)
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def push_after_commit(device_ids) -> None:
    push_owed_after_commit(push.owe(device_ids))


def push_owed_after_commit(device_ids) -> None:
    """For callers that marked the devices as owed themselves (in their own UPDATE)."""
    ids = list(device_ids)
    if ids:
        transaction.on_commit(lambda: [push_devices.delay(chunk) for chunk in _chunks(ids)])


@shared_task(bind=True, acks_late=True, max_retries=8)
def push_devices(self, device_ids: list[int]) -> dict:
    """Push the devices of ``device_ids`` that are still owed a push; transient failures are
    retried with backoff (the sweep catches whatever a lost retry leaves)."""
    report = push.send_owed(device_ids)
    # In process (embedded default) there is no broker to wait on: the sweep retries instead.
    if report.retry and not self.request.is_eager and self.request.retries < self.max_retries:
        countdown = max(report.retry_after or 0, backoff_seconds(self.request.retries))
        raise self.retry(args=[report.retry], countdown=countdown)
    return {"ok": report.ok, "token_invalid": report.token_invalid, "retry": len(report.retry)}


@shared_task(acks_late=True)
def sweep_pushes() -> int:
    """Beat: re-push devices owed a push for a while, waiting with commands, or silent."""
    ids = push.owed_for_sweep()
    for chunk in _chunks(ids):
        push_devices.delay(chunk)
    return len(ids)
