"""User-based Apps and Books licences (adue-protocol.md §7.5): who should hold each app, and
getting Apple to agree.

Who should hold an app is the rule of ``mdm.app_reach``; ``plan`` turns it into ``Licence``
rows (no Apple call); ``send`` asks Apple: it creates missing Apps and Books users (``users/create`` with our clientUserId and the Managed Apple ID), then
``assets/associate`` / ``assets/disassociate`` by ``clientUserIds`` in the largest batches
``service/config`` allows. Apple answers each request with a job (``eventId``); its outcome
arrives as a notification or from ``GET status`` and is applied by ``apply_event``.

Safe to run twice or concurrently: a licence is claimed by a conditional UPDATE (its state
and an empty ``event_id``) before Apple is asked, and the asset's available count is reserved
under a row lock, so no user is associated twice and no more licences are handed out than the
asset has. Users beyond the available licences get ``no_licence``; users without a managed
Apple ID ``no_apple_id``; Apple's per-user errors are kept on the licence.
"""

import logging
import uuid
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from apple.models import VppAsset, VppEvent, VppToken, VppUser
from apple.vpp import events
from apple.vpp import users as vpp_users
from apple.vpp.client import VppError
from apple.vpp.service_config import batches
from apple.vpp.tokens import client_for
from users.models import ManagedUser

from . import app_reach
from .models import App, Licence

log = logging.getLogger("mdm.licences")

State = Licence.State
CHUNK = 500
# Rows without a licence at Apple: dropped as soon as their last reason goes.
UNHELD = (State.PENDING, State.FAILED, State.NO_LICENCE, State.NO_APPLE_ID)
USER_NOT_FOUND = 9609  # Apple has not registered the user yet: asked again later
# Stored in English (tasks have no language) and translated when shown.
NO_ASSET = gettext_noop(
    "This app has no Apps and Books licences: upload the token or buy the app in Apple "
    "Business Manager."
)
NO_VPP_USER = gettext_noop("Apps and Books could not create a user for this person.")


@dataclass
class Report:
    associated: int = 0
    disassociated: int = 0
    no_licence: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def _update(queryset, **values) -> int:
    """``queryset.update`` that also stamps ``updated_at`` (UPDATE skips auto_now)."""
    return queryset.update(**values, updated_at=timezone.now())


def _chunks(items):
    items = list(items)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def plan(app: App) -> None:
    """Bring the app's licence rows in line with who should hold it (no Apple call)."""
    desired = app_reach.user_ids_reached(app)
    rows = {
        user_id: (state, event_id)
        for user_id, state, event_id in Licence.objects.filter(app=app).values_list(
            "user_id", "state", "event_id"
        )
    }
    missing = sorted(desired - rows.keys())  # first come (oldest user), first served
    with_apple_id = set()
    for chunk in _chunks(missing):
        with_apple_id.update(
            ManagedUser.objects.filter(pk__in=chunk)
            .exclude(managed_apple_id="")
            .values_list("pk", flat=True)
        )
    Licence.objects.bulk_create(
        [
            Licence(
                tenant_id=app.tenant_id,
                app=app,
                user_id=user_id,
                state=State.PENDING if user_id in with_apple_id else State.NO_APPLE_ID,
            )
            for user_id in missing
        ],
        ignore_conflicts=True,  # a concurrent run made the row already
        batch_size=CHUNK,
    )
    gone = [user_id for user_id in rows if user_id not in desired]
    for chunk in _chunks(gone):
        mine = Licence.objects.filter(app=app, user_id__in=chunk)
        mine.filter(state__in=UNHELD).delete()
        _update(
            mine.filter(state=State.ASSIGNED),
            state=State.DISASSOCIATING,
            event_id="",
            error_number=None,
            error_text="",
        )
    # Wanted again before the release went to Apple: keep the licence.
    back = [u for u, (s, e) in rows.items() if u in desired and s == State.DISASSOCIATING and not e]
    for chunk in _chunks(back):
        _update(
            Licence.objects.filter(
                app=app, user_id__in=chunk, state=State.DISASSOCIATING, event_id=""
            ),
            state=State.ASSIGNED,
        )
    # Licences may have been bought, Apple IDs added: look again.
    waiting = Licence.objects.filter(app=app, state__in=(State.NO_LICENCE, State.NO_APPLE_ID))
    _update(waiting.exclude(user__managed_apple_id=""), state=State.PENDING, error_text="")
    _update(
        Licence.objects.filter(app=app, state=State.PENDING, user__managed_apple_id=""),
        state=State.NO_APPLE_ID,
    )


# --- asking Apple ---------------------------------------------------------------------------


def _asset_ref(asset: VppAsset) -> list[dict]:
    return [{"adamId": asset.adam_id, "pricingParam": asset.pricing_param}]


def _give_back(asset_id: int, count: int) -> None:
    """Licences reserved (or held) and not taken after all go back to the available count."""
    if count:
        VppAsset.objects.filter(pk=asset_id).update(
            available_count=F("available_count") + count,
            assigned_count=F("assigned_count") - count,
        )


def _reserve(app: App, asset: VppAsset, report: Report) -> tuple[str, list[Licence]]:
    """Claim as many pending licences as the asset has available; the rest get no_licence."""
    marker = f"{vpp_users.CLAIM_PREFIX}{uuid.uuid4().hex}"
    with transaction.atomic():
        locked = VppAsset.objects.select_for_update().get(pk=asset.pk)
        pending = Licence.objects.filter(app=app, state=State.PENDING, event_id="")
        ids = list(pending.order_by("pk").values_list("pk", flat=True))
        take = ids[: max(locked.available_count, 0)]
        claimed = 0
        for chunk in _chunks(take):
            claimed += _update(
                Licence.objects.filter(pk__in=chunk, state=State.PENDING, event_id=""),
                state=State.ASSOCIATING,
                event_id=marker,
                error_number=None,
                error_text="",
            )
        if len(take) < len(ids):
            rest = ids[len(take) :]
            for chunk in _chunks(rest):
                report.no_licence += _update(
                    Licence.objects.filter(pk__in=chunk, state=State.PENDING, event_id=""),
                    state=State.NO_LICENCE,
                )
        if claimed:
            VppAsset.objects.filter(pk=locked.pk).update(
                available_count=F("available_count") - claimed,
                assigned_count=F("assigned_count") + claimed,
            )
    return marker, list(Licence.objects.filter(event_id=marker).select_related("user"))


def _fail(licences, number, text, state=State.FAILED) -> None:
    ids = [licence.pk for licence in licences]
    for chunk in _chunks(ids):
        _update(
            Licence.objects.filter(pk__in=chunk),
            state=state,
            event_id="",
            error_number=number,
            error_text=text[:300],
        )


def _associate(app: App, row: VppToken, asset: VppAsset, report: Report) -> None:
    _marker, claimed = _reserve(app, asset, report)
    if not claimed:
        return
    try:
        holders = vpp_users.ensure_users(row, [licence.user for licence in claimed])
    except VppError as exc:
        _fail(claimed, exc.error_number, str(exc), state=State.PENDING)
        _give_back(asset.pk, len(claimed))
        raise
    unusable = [licence for licence in claimed if licence.user_id not in holders]
    if unusable:
        failed = {
            v.user_id: v
            for v in VppUser.objects.filter(token=row, user_id__in=[u.user_id for u in unusable])
        }
        for licence in unusable:
            user = failed.get(licence.user_id)
            number = user.error_number if user else None
            text = user.error_text if user else ""
            _fail([licence], number, text or NO_VPP_USER)
        report.failed += len(unusable)
        _give_back(asset.pk, len(unusable))
    ready = [licence for licence in claimed if licence.user_id in holders]
    _send_batches(
        row,
        asset,
        ready,
        "ASSOCIATE",
        lambda c, ids: c.associate(_asset_ref(asset), client_user_ids=ids),
        holders,
        on_error=lambda batch: _give_back(asset.pk, len(batch)),
        revert=State.PENDING,
    )
    report.associated += len(ready)


def _disassociate(app: App, row: VppToken, asset: VppAsset, report: Report) -> None:
    marker, claimed = vpp_users.claim(Licence.objects.filter(app=app, state=State.DISASSOCIATING))
    if not claimed:
        return
    holders = {
        v.user_id: v
        for v in VppUser.objects.filter(
            token=row, user_id__in=[licence.user_id for licence in claimed]
        )
    }
    # Nobody at Apple holds it for a user who never got an Apps and Books user.
    orphans = [licence.pk for licence in claimed if licence.user_id not in holders]
    Licence.objects.filter(pk__in=orphans).delete()
    ready = [licence for licence in claimed if licence.user_id in holders]
    _send_batches(
        row,
        asset,
        ready,
        "DISASSOCIATE",
        lambda c, ids: c.disassociate(_asset_ref(asset), client_user_ids=ids),
        holders,
        on_error=None,
        revert=State.DISASSOCIATING,
    )
    report.disassociated += len(ready)


def _send_batches(row, asset, licences, event_type, request, holders, *, on_error, revert):
    """One request per ``maxClientUserIds`` licences; each batch's licences wait on its job.
    When Apple cannot be reached (after the client's retries), the batch and the ones not sent
    go back to ``revert`` to be sent by the next run."""
    if not licences:
        return
    sent = 0
    try:
        with client_for(row.token) as client:
            for batch in batches(licences, "maxClientUserIds"):
                ids = [holders[licence.user_id].client_user_id for licence in batch]
                answer = request(client, ids)
                event = events.record_event(row, answer, event_type, len(ids))
                _update(
                    Licence.objects.filter(pk__in=[licence.pk for licence in batch]),
                    event_id=event.event_id if event else "",
                )
                sent += len(batch)
    except VppError as exc:
        rest = licences[sent:]
        _fail(rest, exc.error_number, str(exc), state=revert)
        if on_error:
            on_error(rest)
        raise


def send(app: App, report: Report | None = None) -> Report:
    """Ask Apple for what ``plan`` decided: associate pending licences, release the others."""
    report = report or Report()
    asset = app.asset
    row = asset.token if asset else None
    if row is None or row.status != VppToken.Status.VALID:
        text = NO_ASSET
        waiting = Licence.objects.filter(app=app, state=State.PENDING)
        report.no_licence += _update(waiting, state=State.NO_LICENCE, error_text=text)
        return report
    _disassociate(app, row, asset, report)  # first: what it frees can be assigned again
    _associate(app, row, asset, report)
    return report


def run(tenant_id: int, app_ids=None) -> Report:
    """``plan`` and ``send`` for the tenant's apps (or these); one app's trouble with Apple
    does not stop the others (its licences wait for the next run)."""
    report = Report()
    apps = App.objects.filter(tenant_id=tenant_id).select_related("asset__token")
    if app_ids is not None:
        apps = apps.filter(pk__in=list(app_ids))
    for app in apps:
        plan(app)
        try:
            send(app, report)
        except VppError as exc:
            log.warning("licences of app %s not sent: %s", app.pk, exc)
            report.errors.append(str(exc))
    return report


# --- Apple's answers ------------------------------------------------------------------------


def apply_event(event: VppEvent, assignments=None) -> list[int]:
    """A licence job settled (all of it, or the users one notification names): licences become
    assigned or released, or keep Apple's error. Returns the users whose licence is new."""
    if event.event_type not in ("ASSOCIATE", "DISASSOCIATE"):
        return []
    rows = Licence.objects.filter(event_id=event.event_id).select_related("app")
    vpp = {
        v.user_id: v
        for v in VppUser.objects.filter(token_id=event.token_id, user_id__in=rows.values("user_id"))
    }
    holders = {user_id: v.client_user_id for user_id, v in vpp.items()}
    if assignments is not None:
        wanted = set(assignments)
        rows = [r for r in rows if holders.get(r.user_id) in wanted]
    failed = events.failed_client_user_ids(event)
    whole = events.whole_job_failure(event)
    if assignments is None and event.status == VppEvent.Status.PENDING:
        return []
    assigned, released, retry, broken, kept, given = [], [], [], [], [], {}
    for licence in rows:
        failure = failed.get(holders.get(licence.user_id)) or (
            whole if assignments is None else None
        )
        if licence.state == State.ASSOCIATING:
            if failure is None:
                assigned.append(licence)
                continue
            given[licence.app.asset_id] = given.get(licence.app.asset_id, 0) + 1
            holder = vpp.get(licence.user_id)
            if holder is not None and holder.status == VppUser.Status.FAILED:
                # Apple refused the user itself: that is the reason to show.
                failure = (holder.error_number, holder.error_text or failure[1])
            elif failure[0] == USER_NOT_FOUND:
                retry.append((licence, failure))
                continue
            broken.append((licence, failure))
        elif licence.state == State.DISASSOCIATING:
            if failure is None:
                released.append(licence)
                given[licence.app.asset_id] = given.get(licence.app.asset_id, 0) + 1
            else:
                kept.append((licence, failure))
    for chunk in _chunks([licence.pk for licence in assigned]):
        _update(
            Licence.objects.filter(pk__in=chunk),
            state=State.ASSIGNED,
            event_id="",
            error_number=None,
            error_text="",
        )
    for chunk in _chunks([licence.pk for licence in released]):
        Licence.objects.filter(pk__in=chunk).delete()
    for state, items in ((State.PENDING, retry), (State.FAILED, broken), (State.ASSIGNED, kept)):
        for licence, (number, text) in items:
            _update(
                Licence.objects.filter(pk=licence.pk),
                state=state,
                event_id="",
                error_number=number,
                error_text=text,
            )
    for asset_id, count in given.items():
        if asset_id:
            _give_back(asset_id, count)
    return [licence.user_id for licence in assigned]


def apps_waiting(tenant_id: int) -> list[int]:
    """Apps with licences waiting to be sent, e.g. for users Apple had not registered yet."""
    return list(
        Licence.objects.filter(tenant_id=tenant_id, state=State.PENDING, event_id="")
        .values_list("app_id", flat=True)
        .distinct()
    )


def release(token_id: int, adam_id: str, pricing_param: str, client_user_ids: list[str]) -> int:
    """Give back the licences of an app that left the catalogue (its Licence rows are gone
    with it): ``assets/disassociate`` in batches; returns how many were asked."""
    row = VppToken.objects.filter(pk=token_id, status=VppToken.Status.VALID).first()
    if row is None or not client_user_ids:
        return 0
    asset = [{"adamId": adam_id, "pricingParam": pricing_param}]
    with client_for(row.token) as client:
        for batch in batches(list(client_user_ids), "maxClientUserIds"):
            events.record_event(
                row, client.disassociate(asset, client_user_ids=batch), "DISASSOCIATE", len(batch)
            )
    return len(client_user_ids)


# --- users leaving ------------------------------------------------------------------------


def retire_users(user_ids) -> list[int]:
    """These managed users are being deleted: their Apps and Books users are to be retired
    (which frees their licences). Returns the tokens for the caller to run
    ``apple.vpp.users.retire`` after commit."""
    return vpp_users.mark_for_retirement(user_ids)


def apple_ids_changed(user_ids) -> list[int]:
    """These managed users have a new Managed Apple ID: returns the tokens for the caller to
    run ``apple.vpp.users.update_apple_ids`` after commit (``users/update``)."""
    return vpp_users.refresh_apple_ids(user_ids)


def release_stale_claims() -> int:
    """Licences and users a dead worker claimed and never sent go back to be sent."""
    count = vpp_users.release_stale_claims(VppUser)
    before = timezone.now() - vpp_users.STALE_AFTER
    claimed = Licence.objects.filter(
        event_id__startswith=vpp_users.CLAIM_PREFIX, updated_at__lt=before
    )
    associating = claimed.filter(state=State.ASSOCIATING)
    for asset_id, n in _count_by_asset(associating).items():
        _give_back(asset_id, n)
    count += _update(associating, state=State.PENDING, event_id="")
    count += _update(claimed.filter(state=State.DISASSOCIATING), event_id="")
    return count


def _count_by_asset(rows) -> dict[int, int]:
    counts = {}
    for asset_id in rows.values_list("app__asset_id", flat=True):
        if asset_id:
            counts[asset_id] = counts.get(asset_id, 0) + 1
    return counts
