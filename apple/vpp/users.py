"""Apps and Books users (``VppUser``): one per managed user who should hold a licence, created
with our stable ``clientUserId`` and the Managed Apple ID so Apple links them without an
invitation (adue-protocol.md §7.5), updated (``users/update``) when the managed user's Managed
Apple ID changes, and retired when the managed user goes.

A registered user whose ``managed_apple_id`` differs from its managed user's is what is owed
to Apple: ``update_apple_ids`` sends it and records the ID sent, so running it twice sends
nothing twice, and a change it missed is found by the next run.

Every request to Apple goes in the largest batches ``service/config`` allows (``maxUsers``).
Rows are claimed with a conditional UPDATE before Apple is asked, so two workers never send the
same user twice; a worker that dies between claim and answer leaves a ``claim:`` marker that
``release_stale_claims`` gives back.
"""

import uuid
from datetime import timedelta

from django.db.models import F, OuterRef, Q, Subquery
from django.dispatch import receiver
from django.utils import timezone

from users.models import ManagedUser

from ..models import VppToken, VppUser
from ..signals import vpp_event_settled
from . import events
from .client import VppError
from .service_config import batches
from .tokens import client_for

CLAIM_PREFIX = "claim:"
STALE_AFTER = timedelta(minutes=15)
USABLE = (VppUser.Status.CREATING, VppUser.Status.REGISTERED)


def claim(queryset) -> tuple[str, list]:
    """Mark the rows of ``queryset`` (with no job yet) as ours; returns the marker and them."""
    marker = f"{CLAIM_PREFIX}{uuid.uuid4().hex}"
    model = queryset.model
    ids = list(queryset.filter(event_id="").values_list("pk", flat=True))
    model.objects.filter(pk__in=ids, event_id="").update(event_id=marker, updated_at=timezone.now())
    return marker, list(model.objects.filter(event_id=marker))


def ensure_users(row: VppToken, users) -> dict[int, VppUser]:
    """The usable Apps and Books user of each managed user (which must have a managed Apple
    ID), by managed user id; missing ones are created at Apple now. Creation is asynchronous
    at Apple: licences are associated right after, and a user Apple does not know yet shows as
    error 9609 on the licence, which is retried."""
    users = {u.pk: u for u in users}
    existing = {v.user_id for v in VppUser.objects.filter(token=row, user_id__in=list(users))}
    VppUser.objects.bulk_create(
        [
            VppUser(
                tenant_id=row.tenant_id,
                token=row,
                user=user,
                client_user_id=str(uuid.uuid4()),
                managed_apple_id=user.managed_apple_id,
                email=user.email,
            )
            for pk, user in users.items()
            if pk not in existing
        ],
        ignore_conflicts=True,  # a concurrent worker created some: theirs stand
        batch_size=500,
    )
    marker, rows = claim(
        VppUser.objects.filter(token=row, user_id__in=list(users), status=VppUser.Status.CREATING)
    )
    _send(
        row,
        rows,
        "USER_CREATE",
        "maxUsers",
        lambda client, batch: client.create_users(
            [_entry(v) | ({"email": v.email} if v.email else {}) for v in batch]
        ),
    )
    return {
        v.user_id: v
        for v in VppUser.objects.filter(token=row, user_id__in=list(users), status__in=USABLE)
    }


def mark_for_retirement(user_ids) -> list[int]:
    """The Apps and Books users of these managed users are to be retired (their licences go
    back to the pool); returns the tokens that have some, for the caller to run ``retire``."""
    rows = VppUser.objects.filter(user_id__in=list(user_ids)).exclude(
        status__in=(VppUser.Status.RETIRING, VppUser.Status.RETIRED)
    )
    tokens = sorted(set(rows.values_list("token_id", flat=True)))
    rows.update(status=VppUser.Status.RETIRING, event_id="", updated_at=timezone.now())
    return tokens


def retire(row: VppToken) -> int:
    """Send ``users/retire`` for the users marked for retirement; returns how many."""
    _marker, rows = claim(VppUser.objects.filter(token=row, status=VppUser.Status.RETIRING))
    _send(
        row,
        rows,
        "USER_RETIRE",
        "maxUsers",
        lambda client, batch: client.retire_users([v.client_user_id for v in batch]),
    )
    return len(rows)


def _stale(queryset):
    """Rows whose managed user has another (non-empty) Managed Apple ID than the row."""
    return (
        queryset.filter(user__isnull=False)
        .exclude(user__managed_apple_id="")
        .exclude(managed_apple_id=F("user__managed_apple_id"))
    )


def refresh_apple_ids(user_ids) -> list[int]:
    """These managed users' Managed Apple IDs changed. Users Apple has not been asked to create
    yet take the new ID here (``users/create`` sends it); returns the tokens whose registered
    users need ``users/update``, for the caller to run ``update_apple_ids`` after commit."""
    rows = VppUser.objects.filter(user_id__in=list(user_ids))
    _stale(rows.filter(status=VppUser.Status.CREATING, event_id="")).update(
        managed_apple_id=Subquery(
            ManagedUser.objects.filter(pk=OuterRef("user_id")).values("managed_apple_id")[:1]
        ),
        updated_at=timezone.now(),
    )
    return stale_tokens(rows)


def stale_tokens(rows=None) -> list[int]:
    """Valid tokens with registered users whose Managed Apple ID Apple has yet to get."""
    rows = VppUser.objects.all() if rows is None else rows
    stale = _stale(
        rows.filter(status=VppUser.Status.REGISTERED, token__status=VppToken.Status.VALID)
    )
    return sorted(set(stale.values_list("token_id", flat=True)))


def update_apple_ids(row: VppToken) -> int:
    """Send ``users/update`` for the token's registered users whose managed user has another
    Managed Apple ID than Apple was given; returns how many. A user whose last job is still
    open waits for the next run (``mdm.tasks.follow_licence_jobs``)."""
    _marker, rows = claim(
        _stale(VppUser.objects.filter(token=row, status=VppUser.Status.REGISTERED))
    )
    current = dict(
        ManagedUser.objects.filter(pk__in=[v.user_id for v in rows]).values_list(
            "pk", "managed_apple_id"
        )
    )
    for v in rows:
        v.managed_apple_id = current.get(v.user_id) or v.managed_apple_id
    _send(
        row,
        rows,
        "USER_UPDATE",
        "maxUsers",
        lambda client, batch: client.update_users([_entry(v) for v in batch]),
        # What Apple has now: a second run finds nothing to send.
        sent=lambda batch: VppUser.objects.bulk_update(batch, ["managed_apple_id"]),
    )
    return len(rows)


def _entry(v: VppUser) -> dict:
    """A user as ``users/create`` and ``users/update`` take it."""
    return {"clientUserId": v.client_user_id, "managedAppleId": v.managed_apple_id}


def _send(
    row: VppToken, rows: list[VppUser], event_type: str, limit: str, request, sent=None
) -> None:
    if not rows:
        return
    with client_for(row.token) as client:
        for batch in batches(rows, limit):
            ids = [v.pk for v in batch]
            try:
                event = events.record_event(row, request(client, batch), event_type)
            except VppError:
                VppUser.objects.filter(pk__in=ids).update(event_id="")  # the next run sends them
                raise
            if sent is not None:
                sent(batch)
            VppUser.objects.filter(pk__in=ids).update(event_id=event.event_id if event else "")


def release_stale_claims(model, now=None) -> int:
    """Rows a dead worker claimed and never sent go back to be sent again."""
    before = (now or timezone.now()) - STALE_AFTER
    return model.objects.filter(Q(event_id__startswith=CLAIM_PREFIX), updated_at__lt=before).update(
        event_id=""
    )


@receiver(vpp_event_settled, dispatch_uid="apple.vpp_users")
def apply_event(sender, event, assignments=None, **kwargs) -> None:
    """A user job settled: the users it covered are registered, updated or retired, or failed
    with Apple's reason."""
    if not event.event_type.startswith("USER_"):
        return
    rows = VppUser.objects.filter(event_id=event.event_id)
    if assignments is not None:
        rows = rows.filter(client_user_id__in=assignments)
    failed = events.failed_client_user_ids(event)
    for user in rows:
        failure = failed.get(user.client_user_id)
        if failure is None and event.status == event.Status.FAILED and not failed:
            failure = (None, "; ".join(str(f) for f in event.failures)[:300])
        if event.event_type == "USER_UPDATE":
            # Apple keeps the user (with its former ID) when an update fails: still usable,
            # with the reason shown; another change of the ID tries again.
            user.error_number, user.error_text = failure or (None, "")
        elif failure is not None:
            user.status = VppUser.Status.FAILED
            user.error_number, user.error_text = failure
        elif user.status == VppUser.Status.CREATING:
            user.status = VppUser.Status.REGISTERED
            user.error_number, user.error_text = None, ""
        elif user.status == VppUser.Status.RETIRING:
            user.status = VppUser.Status.RETIRED
        user.event_id = ""
        user.save(update_fields=["status", "error_number", "error_text", "event_id", "updated_at"])
