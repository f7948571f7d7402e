"""Bearer tokens of the enrollment web login (opaque, random, stored hashed, bound to a tenant
and user, and on first check-in to one EnrollmentID)."""

from datetime import timedelta

from django.utils import timezone

from users import statements
from users.compiled import CompiledRow, attnames, instances
from users.models import ManagedUser, Tenant

from . import terms
from .models import EnrollmentSession

# Long enough for the managed-volume set-up, the Managed Apple Account sign-in and SCEP.
PROFILE_WINDOW = timedelta(hours=1)


def issue(user, *, remote_addr=None) -> tuple[EnrollmentSession, str]:
    raw = EnrollmentSession.new_token()
    session = statements.create(
        EnrollmentSession(
            tenant=user.tenant,
            user=user,
            token_hash=EnrollmentSession.hash_token(raw),
            expires_at=timezone.now() + PROFILE_WINDOW,
            remote_addr=remote_addr,
        )
    )
    return session, raw


def bearer_from(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


# The user's columns a session brings: not the TOTP secret, which only the web login checks
# (decrypting it on every device request was a measured cost; it stays loadable, deferred).
_USER_COLUMNS = tuple(name for name in attnames(ManagedUser) if name != "totp_secret")


def joined_sessions(**filters):
    """Sessions matching ``filters`` as rows for ``joined_session``: the session's, its user's
    and its tenant's columns, and whether it accepted the terms in force. The one shape of the
    compiled session lookups (here, ``lifecycle``, ``mdm.device_auth``)."""
    return (
        EnrollmentSession.objects.filter(**filters)
        .annotate(terms_accepted=terms.accepted_expression())
        .order_by()  # every caller filters by a unique key
        .values_list(
            *attnames(EnrollmentSession),
            *(f"user__{name}" for name in _USER_COLUMNS),
            *(f"tenant__{name}" for name in attnames(Tenant)),
            "terms_accepted",
        )[:1]
    )


def joined_session(row) -> EnrollmentSession:
    session, user, tenant = instances(
        row,
        (EnrollmentSession, attnames(EnrollmentSession)),
        (ManagedUser, _USER_COLUMNS),
        (Tenant, attnames(Tenant)),
    )
    session.terms_accepted = bool(row[-1])
    session._state.fields_cache["user"] = user
    session._state.fields_cache["tenant"] = tenant
    return session


# Markers of the compiled lookup: any values apart from the query's own constants.
_TOKEN_HASH, _NUMBER = "\x01token-hash", 987654321
_session_row = CompiledRow(
    lambda: joined_sessions(token_hash=_TOKEN_HASH, tenant__number=_NUMBER, tenant__is_active=True),
    token_hash=(EnrollmentSession._meta.get_field("token_hash"), _TOKEN_HASH),
    number=(Tenant._meta.get_field("number"), _NUMBER),
)


def session_for(raw: str | None, *, tenant_number: int) -> EnrollmentSession | None:
    """The session a bearer token belongs to, if it is still usable and of the active tenant
    with this number; its tenant and user joined (one compiled lookup)."""
    if not raw:
        return None
    row = _session_row.row(token_hash=EnrollmentSession.hash_token(raw), number=tenant_number)
    if row is None:
        return None
    session = joined_session(row)
    return session if session.token_usable() else None
