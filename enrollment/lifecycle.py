"""The enrollment session's state machine: named, guarded transitions, and what follows a
finished enrollment. Other apps change a session's state only through these functions.

authenticated → profile_delivered → checked_in → ended (ended from any state)
"""

from django.db import connection
from django.db.models import F
from django.utils import timezone

from users import statements
from users.compiled import CompiledRow

from . import tokens
from .models import EnrollmentSession, Invitation

State = EnrollmentSession.State


def profile_delivered(session: EnrollmentSession, *, machine_info: dict) -> bool:
    """The profile went out for this bearer token; refused once the session is bound or ended."""
    return bool(
        EnrollmentSession.objects.filter(
            pk=session.pk, state__in=(State.AUTHENTICATED, State.PROFILE_DELIVERED)
        ).update(
            machine_info=machine_info,
            profile_fetches=F("profile_fetches") + 1,
            profile_delivered_at=timezone.now(),
            state=State.PROFILE_DELIVERED,
        )
    )


def _checked_in(session: EnrollmentSession, enrollment_id: str):
    rows = (
        EnrollmentSession.objects.filter(pk=session.pk)
        .exclude(state=State.ENDED)
        .filter(enrollment_id__in=("", enrollment_id))
    )
    return rows, {"enrollment_id": enrollment_id, "state": State.CHECKED_IN}


def checked_in(session: EnrollmentSession, enrollment_id: str) -> bool:
    """Authenticate arrived: the session is bound to this EnrollmentID for good."""
    rows, values = _checked_in(session, enrollment_id)
    return bool(rows.update(**values))


def checked_in_part(session: EnrollmentSession, enrollment_id: str) -> statements.Part:
    """``checked_in`` as a part of the caller's ``statements.write_together``."""
    rows, values = _checked_in(session, enrollment_id)
    return statements.update(rows, **values)


def ended(session_id: int | None) -> None:
    """The enrollment is over (CheckOut, removal): its token and identity stop working."""
    if session_id is not None:
        EnrollmentSession.objects.filter(pk=session_id).exclude(state=State.ENDED).update(
            state=State.ENDED
        )


_ID = 987654321  # the marker of the compiled lookup (any value but the query's constants)
_completed_row = CompiledRow(
    lambda: tokens.joined_sessions(pk=_ID),
    pk=(EnrollmentSession._meta.get_field("id"), _ID),
)


# The user's open invitations are enrolled; as SQL, since building the ORM's UPDATE took longer
# than the rest of this step.
_INVITATIONS_ENROLLED = (
    f"UPDATE {Invitation._meta.db_table} SET enrolled_at = %s "  # noqa: S608 - the model's name
    "WHERE user_id = %s AND enrolled_at IS NULL"
)


def enrollment_completed(session_id: int):
    """Invitations of the user are marked enrolled. Returns ``(session, terms)`` when the user
    is owed the terms mail (terms in force, not accepted by this enrollment), else None."""
    from . import terms

    row = _completed_row.row(pk=session_id)
    if row is None:
        raise EnrollmentSession.DoesNotExist(session_id)
    session = tokens.joined_session(row)
    with connection.cursor() as cursor:
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        cursor.execute(_INVITATIONS_ENROLLED, [now, session.user_id])
    if session.terms_accepted:
        return None
    return session, terms.current_terms(session.tenant)
