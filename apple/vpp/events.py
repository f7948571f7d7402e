"""Apple's asynchronous jobs (associate, disassociate, revoke licences): remembered by
``eventId``, settled by a notification (``notifications.py``) or by asking Apple (``GET status``)
when one was lost. The one place that maps Apple's answers to ``VppEvent.Status``."""

from ..models import VppEvent, VppToken
from ..signals import vpp_event_settled
from .client import VppError, VppTokenError
from .service_config import error_message
from .tokens import client_for


def status_of_job(data: dict, current: str = VppEvent.Status.PENDING) -> str:
    """``eventStatus`` of a ``GET status`` answer."""
    value = str(data.get("eventStatus") or current)
    return value if value in VppEvent.Status.values else current


def status_of_notification(data: dict) -> str:
    """``result`` of an ``ASSET_MANAGEMENT`` notification."""
    return VppEvent.Status.COMPLETE if data.get("result") == "SUCCESS" else VppEvent.Status.FAILED


def record_event(
    row: VppToken, response: dict, event_type: str, num_requested: int = 0
) -> VppEvent | None:
    """Remember an asynchronous job Apple accepted (``{"eventId": ...}``) so its outcome, from
    a notification or from ``refresh_events``, can be looked up by ``event_id``."""
    event_id = str(response.get("eventId") or "")
    if not event_id:
        return None
    event, _created = VppEvent.objects.get_or_create(
        event_id=event_id,
        defaults={
            "tenant": row.tenant,
            "token": row,
            "event_type": event_type[:32],
            "num_requested": num_requested,
        },
    )
    return event


def failure_text(failure: dict) -> tuple[int | None, str]:
    """(errorNumber, text) of one of Apple's failures; the text from service/config if absent."""
    number = failure.get("errorNumber") if isinstance(failure, dict) else None
    number = number if isinstance(number, int) and not isinstance(number, bool) else None
    text = str(failure.get("errorMessage") or "") if isinstance(failure, dict) else str(failure)
    if number is not None and not text:
        text = error_message(number)
    return number, text[:300]


def failed_client_user_ids(event: VppEvent) -> dict[str, tuple[int | None, str]]:
    """clientUserId -> (errorNumber, text) of the users a job failed for (``errorInfo``)."""
    failed = {}
    for failure in event.failures:
        info = failure.get("errorInfo") if isinstance(failure, dict) else None
        ids = info.get("clientUserIds") if isinstance(info, dict) else None
        for client_user_id in ids if isinstance(ids, list) else ():
            failed[str(client_user_id)] = failure_text(failure)
    return failed


def whole_job_failure(event: VppEvent) -> tuple[int | None, str] | None:
    """The failure of a job that failed without naming users (it applies to all of them)."""
    if event.status != VppEvent.Status.FAILED or failed_client_user_ids(event):
        return None
    if event.failures:
        return failure_text(event.failures[0])
    return None, "Apps and Books reported the job as failed"


def _settled(event: VppEvent, assignments=None) -> None:
    vpp_event_settled.send(sender=VppEvent, event=event, assignments=assignments)


def apply_event_status(event: VppEvent, data: dict) -> None:
    was_pending = event.status == VppEvent.Status.PENDING
    event.status = status_of_job(data, event.status)
    event.event_type = str(data.get("eventType") or event.event_type)[:32]
    event.num_completed = int(data.get("numCompleted") or 0)
    event.num_requested = int(data.get("numRequested") or 0)
    event.failures = list(data.get("failures") or [])
    event.save()
    if was_pending and event.status != VppEvent.Status.PENDING:
        _settled(event)


def refresh_events(row: VppToken) -> int:
    """Ask Apple (``GET status``) about jobs still pending, e.g. when a notification was lost.
    Returns how many are finished now."""
    pending = list(VppEvent.objects.filter(token=row, status=VppEvent.Status.PENDING))
    if not pending:
        return 0
    finished = 0
    with client_for(row.token) as client:
        for event in pending:
            try:
                data = client.event_status(event.event_id)
            except VppTokenError:
                raise  # the token, not the event, is the problem: the caller checks it
            except VppError as exc:
                # An unknown event (9602) will never finish; anything else is asked again.
                if exc.error_number == 9602:
                    apply_event_status(
                        event, {"eventStatus": VppEvent.Status.FAILED, "failures": [str(exc)]}
                    )
                    finished += 1
                continue
            apply_event_status(event, data)
            finished += event.status != VppEvent.Status.PENDING
    return finished


def apply_notification(row: VppToken, data: dict) -> VppEvent | None:
    """An ``ASSET_MANAGEMENT`` notification: the job's outcome."""
    event_id = str(data.get("eventId", ""))
    if not event_id:
        return None
    event, _created = VppEvent.objects.get_or_create(
        event_id=event_id, defaults={"tenant": row.tenant, "token": row}
    )
    event.event_type = str(data.get("type", "") or event.event_type)[:32]
    assignments = [a for a in data.get("assignments") or [] if isinstance(a, dict)]
    event.num_completed += len(assignments)
    event.status = status_of_notification(data)
    if (
        event.status == VppEvent.Status.COMPLETE
        and event.num_completed < event.num_requested
        and assignments
    ):
        # One notification of several: the job is settled when ``GET status`` says so.
        event.status = VppEvent.Status.PENDING
    if event.status == VppEvent.Status.FAILED:
        event.failures = [data.get("error") or data]
    event.save()
    # Apple reports a big job in several notifications, each naming its users.
    named = [str(a["clientUserId"]) for a in assignments if a.get("clientUserId")]
    _settled(event, named if named else None)
    return event
