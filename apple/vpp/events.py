"""Apple's asynchronous jobs (associate, disassociate, revoke licences): remembered by
``eventId``, settled by a notification (``notifications.py``) or by asking Apple (``GET status``)
when one was lost. The one place that maps Apple's answers to ``VppEvent.Status``."""

from ..models import VppEvent, VppToken
from .client import VppError, VppTokenError
from .tokens import client_for


def status_of_job(data: dict, current: str = VppEvent.Status.PENDING) -> str:
    """``eventStatus`` of a ``GET status`` answer."""
    value = str(data.get("eventStatus") or current)
    return value if value in VppEvent.Status.values else current


def status_of_notification(data: dict) -> str:
    """``result`` of an ``ASSET_MANAGEMENT`` notification."""
    return VppEvent.Status.COMPLETE if data.get("result") == "SUCCESS" else VppEvent.Status.FAILED


def record_event(row: VppToken, response: dict, event_type: str) -> VppEvent | None:
    """Remember an asynchronous job Apple accepted (``{"eventId": ...}``) so its outcome, from
    a notification or from ``refresh_events``, can be looked up by ``event_id``."""
    event_id = str(response.get("eventId") or "")
    if not event_id:
        return None
    event, _created = VppEvent.objects.get_or_create(
        event_id=event_id,
        defaults={"tenant": row.tenant, "token": row, "event_type": event_type[:32]},
    )
    return event


def apply_event_status(event: VppEvent, data: dict) -> None:
    event.status = status_of_job(data, event.status)
    event.event_type = str(data.get("eventType") or event.event_type)[:32]
    event.num_completed = int(data.get("numCompleted") or 0)
    event.num_requested = int(data.get("numRequested") or 0)
    event.failures = list(data.get("failures") or [])
    event.save()


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
    event.event_type = str(data.get("type", ""))[:32]
    event.status = status_of_notification(data)
    event.num_completed = len(data.get("assignments") or [])
    if event.status == VppEvent.Status.FAILED:
        event.failures = [data.get("error") or data]
    event.save()
    return event
