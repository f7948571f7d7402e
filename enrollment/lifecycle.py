"""The enrollment session's state machine: named, guarded transitions, and what follows a
finished enrollment. Other apps change a session's state only through these functions.

authenticated → profile_delivered → checked_in → ended (ended from any state)
"""

from django.db import connection
from django.utils import timezone

from users import statements
from users.compiled import CompiledRow

from . import mails, tokens
from .models import EnrollmentSession, Invitation

State = EnrollmentSession.State


# The UPDATEs of this module as SQL, built once: building them with the ORM took longer than
# sending them (``tests/enrollment/test_lifecycle.py`` checks their guards).
_SESSIONS = EnrollmentSession._meta.db_table
_PROFILE_DELIVERED = (
    f"UPDATE {_SESSIONS} SET machine_info = %s, profile_fetches = profile_fetches + 1, "  # noqa: S608 - the model's name
    "profile_delivered_at = %s, state = %s WHERE id = %s AND state IN (%s, %s)"
)
_CHECKED_IN = (
    f"UPDATE {_SESSIONS} SET enrollment_id = %s, state = %s "  # noqa: S608 - the model's name
    "WHERE id = %s AND state <> %s AND enrollment_id IN ('', %s)"
)
_INVITATIONS_ENROLLED = (
    f"UPDATE {Invitation._meta.db_table} SET enrolled_at = %s "  # noqa: S608 - the model's name
    "WHERE user_id = %s AND enrolled_at IS NULL"
)
_MACHINE_INFO = EnrollmentSession._meta.get_field("machine_info")


def _updated(sql: str, params: list) -> bool:
    """Runs one of the UPDATEs above; whether it changed a row."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount > 0


def _now():
    return connection.ops.adapt_datetimefield_value(timezone.now())


def _profile_delivered_params(session: EnrollmentSession, machine_info: dict) -> list:
    info = _MACHINE_INFO.get_db_prep_save(machine_info, connection)
    delivered, allowed = State.PROFILE_DELIVERED.value, State.AUTHENTICATED.value
    return [info, _now(), delivered, session.pk, allowed, delivered]


def profile_delivered(session: EnrollmentSession, *, machine_info: dict) -> bool:
    """The profile went out for this bearer token; refused once the session is bound or ended."""
    return _updated(_PROFILE_DELIVERED, _profile_delivered_params(session, machine_info))


def profile_delivered_part(session: EnrollmentSession, *, machine_info: dict) -> statements.Part:
    """``profile_delivered`` as a part of the caller's ``statements.write_together``."""
    return statements.Part(_PROFILE_DELIVERED, _profile_delivered_params(session, machine_info))


def _checked_in_params(session: EnrollmentSession, enrollment_id: str) -> list:
    return [enrollment_id, State.CHECKED_IN.value, session.pk, State.ENDED.value, enrollment_id]


def checked_in(session: EnrollmentSession, enrollment_id: str) -> bool:
    """Authenticate arrived: the session is bound to this EnrollmentID for good."""
    return _updated(_CHECKED_IN, _checked_in_params(session, enrollment_id))


def checked_in_part(session: EnrollmentSession, enrollment_id: str) -> statements.Part:
    """``checked_in`` as a part of the caller's ``statements.write_together``."""
    return statements.Part(_CHECKED_IN, _checked_in_params(session, enrollment_id))


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


def finish_enrollment(session_id: int) -> None:
    """What follows the first TokenUpdate: invitations marked enrolled, the terms mail if owed.
    Safe to repeat after a mail failure: what comes before the mail is idempotent."""
    owed = enrollment_completed(session_id)
    if owed is not None and owed[0].user.email:
        mails.send_terms(*owed)


def enrollment_completed(session_id: int):
    """Invitations of the user are marked enrolled. Returns ``(session, terms)`` when the user
    is owed the terms mail (terms in force, not accepted by this enrollment), else None."""
    from . import terms

    row = _completed_row.row(pk=session_id)
    if row is None:
        raise EnrollmentSession.DoesNotExist(session_id)
    session = tokens.joined_session(row)
    _updated(_INVITATIONS_ENROLLED, [_now(), session.user_id])
    if session.terms_accepted:
        return None
    return session, terms.current_terms(session.tenant)
