"""Apps and Books users (``VppUser``): one per managed user who should hold a licence, created
with our stable ``clientUserId`` and the Managed Apple ID so Apple links them without an
invitation (adue-protocol.md §7.5), and retired when the managed user goes.

Every request to Apple goes in the largest batches ``service/config`` allows (``maxUsers``).
Rows are claimed with a conditional UPDATE before Apple is asked, so two workers never send the
same user twice; a worker that dies between claim and answer leaves a ``claim:`` marker that
``release_stale_claims`` gives back.
"""

import uuid
from datetime import timedelta

from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone

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
            [
                {"clientUserId": v.client_user_id, "managedAppleId": v.managed_apple_id}
                | ({"email": v.email} if v.email else {})
                for v in batch
            ]
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


def _send(row: VppToken, rows: list[VppUser], event_type: str, limit: str, request) -> None:
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
            VppUser.objects.filter(pk__in=ids).update(event_id=event.event_id if event else "")


def release_stale_claims(model, now=None) -> int:
    """Rows a dead worker claimed and never sent go back to be sent again."""
    before = (now or timezone.now()) - STALE_AFTER
    return model.objects.filter(Q(event_id__startswith=CLAIM_PREFIX), updated_at__lt=before).update(
        event_id=""
    )


@receiver(vpp_event_settled, dispatch_uid="apple.vpp_users")
def apply_event(sender, event, assignments=None, **kwargs) -> None:
    """A user job settled: the users it covered are registered or retired, or failed with
    Apple's reason."""
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
        if failure is not None:
            user.status = VppUser.Status.FAILED
            user.error_number, user.error_text = failure
        elif user.status == VppUser.Status.CREATING:
            user.status = VppUser.Status.REGISTERED
            user.error_number, user.error_text = None, ""
        elif user.status == VppUser.Status.RETIRING:
            user.status = VppUser.Status.RETIRED
        user.event_id = ""
        user.save(update_fields=["status", "error_number", "error_text", "event_id", "updated_at"])
