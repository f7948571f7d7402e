"""Celery tasks of mdm: pushes and Apps and Books licences. Tasks call services; idempotent, acknowledged late.

``push_after_commit`` is how handlers, views and receivers ask for a push: it enqueues the
push task once the transaction that queued the work has committed. The first TokenUpdate asks
through ``enrolled_after_commit`` instead: its one task pushes and finishes the enrollment.
"""

import logging
import smtplib

from celery import shared_task
from django.conf import settings
from django.db import transaction

from apple.apns import backoff_seconds
from apple.models import VppEvent, VppToken
from apple.vpp import events as vpp_events
from apple.vpp import users as vpp_users
from apple.vpp.client import VppError
from enrollment import lifecycle

from . import app_catalogue, licences, push
from .models import App, Licence

log = logging.getLogger("mdm.tasks")


def _chunks(ids: list[int]):
    size = max(1, settings.MDM_PUSH_BATCH)
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def push_after_commit(device_ids) -> None:
    """Marks the devices as owed a push and pushes them once the caller's transaction commits."""
    ids = list(push.owe(device_ids))
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


def enrolled_after_commit(device_id: int, session_id: int | None) -> None:
    """For the first TokenUpdate, which marked the device as owed a push in its own UPDATE."""
    transaction.on_commit(lambda: device_enrolled.delay(device_id, session_id))


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(smtplib.SMTPException, ConnectionError, TimeoutError),
    retry_backoff=30,
    max_retries=5,
)
def device_enrolled(self, device_id: int, session_id: int | None) -> None:
    """A device's first TokenUpdate, in one task (publishing another cost the web worker
    ~0.6 ms per enrollment): the push that wakes it for its first inventory, then what the
    enrollment owes (``enrollment.lifecycle.finish_enrollment``). A retry after a mail failure
    pushes again only if the push is still owed."""
    try:
        report = push.send_owed([device_id])
    finally:  # the user's mail does not depend on APNs (an unusable certificate raises)
        if session_id is not None:
            lifecycle.finish_enrollment(session_id)
    if report.retry and not self.request.is_eager:
        countdown = max(report.retry_after or 0, backoff_seconds(0))
        push_devices.apply_async(args=[report.retry], countdown=countdown)


@shared_task(acks_late=True)
def sweep_pushes() -> int:
    """Beat: re-push devices owed a push for a while, waiting with commands, or silent."""
    ids = push.owed_for_sweep()
    for chunk in _chunks(ids):
        push_devices.delay(chunk)
    return len(ids)


# --- Apps and Books licences (mdm.licences) ----------------------------------------------------


def licences_after_commit(tenant_id: int, app_ids=None) -> None:
    """How receivers, pages and the API ask for licences to be (re)assigned."""
    ids = None if app_ids is None else sorted(set(app_ids))
    if ids == []:
        return
    transaction.on_commit(lambda: assign_licences.delay(tenant_id, ids))


def retire_after_commit(token_ids) -> None:
    ids = list(token_ids)
    if ids:
        transaction.on_commit(lambda: retire_vpp_users.delay(ids))


@shared_task(acks_late=True)
def assign_licences(tenant_id: int, app_ids: list[int] | None = None) -> dict:
    """Plan and send the licences of the tenant's apps (or these). Safe to run twice or at
    once: licences are claimed before Apple is asked; what fails waits for the next run."""
    report = licences.run(tenant_id, app_ids)
    return {
        "associated": report.associated,
        "disassociated": report.disassociated,
        "no_licence": report.no_licence,
        "failed": report.failed,
        "errors": report.errors[:5],
    }


@shared_task(acks_late=True, bind=True, max_retries=5)
def release_licences(self, release: dict) -> int:
    """Licences of an app deleted from the catalogue go back to the pool."""
    try:
        return licences.release(**release)
    except VppError as exc:
        if self.request.is_eager or self.request.retries >= self.max_retries:
            log.warning("licences of adamId %s not released: %s", release.get("adam_id"), exc)
            return 0
        raise self.retry(countdown=backoff_seconds(self.request.retries) * 60) from exc


def catalogue_changed_after_commit(
    tenant_id: int, *, app_ids=None, push=(), release=None, added=None
):
    """After a catalogue change (pages, API): licences, pushes, released licences, and the
    metadata of the app ``added``."""
    licences_after_commit(tenant_id, app_ids)
    push_after_commit(push)
    if release:
        transaction.on_commit(lambda: release_licences.delay(release))
    if added is not None:
        transaction.on_commit(lambda: refresh_app_metadata.delay(added))


@shared_task(acks_late=True)
def refresh_app_metadata(app_id: int) -> bool:
    app = App.objects.filter(pk=app_id).select_related("asset__token").first()
    return app_catalogue.refresh_metadata(app) if app else False


def update_vpp_users_after_commit(token_ids) -> None:
    ids = list(token_ids)
    if ids:
        transaction.on_commit(lambda: update_vpp_users.delay(ids))


@shared_task(acks_late=True)
def update_vpp_users(token_ids: list[int]) -> int:
    """``users/update`` for Apps and Books users whose managed user has a new Managed Apple ID;
    idempotent (what was sent is recorded), and the licence beat sends what this missed."""
    return _per_valid_token(token_ids, vpp_users.update_apple_ids, "updated")


@shared_task(acks_late=True)
def retire_vpp_users(token_ids: list[int]) -> int:
    return _per_valid_token(token_ids, vpp_users.retire, "retired")


def _per_valid_token(token_ids: list[int], action, done: str) -> int:
    """``action(token)`` for each valid token of ``token_ids``; a token Apple refuses is logged
    and the others go on. Returns the sum of what the actions counted."""
    count = 0
    for row in VppToken.objects.filter(pk__in=token_ids, status=VppToken.Status.VALID):
        try:
            count += action(row)
        except VppError as exc:
            log.warning("Apps and Books users of token %s not %s: %s", row.pk, done, exc)
    return count


@shared_task(acks_late=True)
def follow_licence_jobs() -> int:
    """Beat (every few minutes): ask Apple about jobs whose notification has not come, give
    back what a dead worker claimed, and send what is still waiting (users Apple had not
    registered yet, licences bought since, Managed Apple IDs changed while a job was open)."""
    licences.release_stale_claims()
    settled = 0
    for row in VppToken.objects.filter(
        status=VppToken.Status.VALID, events__status=VppEvent.Status.PENDING
    ).distinct():
        try:
            settled += vpp_events.refresh_events(row)
        except VppError as exc:
            log.warning("jobs of token %s not followed: %s", row.pk, exc)
    for tenant_id in (
        App.objects.filter(licences__state=Licence.State.PENDING, licences__event_id="")
        .values_list("tenant_id", flat=True)
        .distinct()
    ):
        assign_licences.delay(tenant_id)
    token_ids = vpp_users.stale_tokens()
    if token_ids:
        update_vpp_users.delay(token_ids)
    return settled


@shared_task(acks_late=True)
def reconcile_all_licences() -> int:
    """Beat (hourly): every tenant's licences against who should hold them, as a safety net
    for changes no signal reported (a user reactivated); metadata Apple did not give before."""
    tenants = list(App.objects.values_list("tenant_id", flat=True).distinct())
    for tenant_id in tenants:
        assign_licences.delay(tenant_id)
    # Apps whose metadata lookup failed so far (the catalogue shows their adamId meanwhile).
    for app_id in App.objects.filter(metadata_fetched_at__isnull=True).values_list("pk", flat=True):
        refresh_app_metadata.delay(app_id)
    return len(tenants)
