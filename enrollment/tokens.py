"""Bearer tokens of the enrollment web login (opaque, random, stored hashed, bound to a tenant
and user, and on first check-in to one EnrollmentID)."""

from datetime import timedelta

from django.utils import timezone

from .models import EnrollmentSession

# Long enough for the managed-volume set-up, the Managed Apple Account sign-in and SCEP.
PROFILE_WINDOW = timedelta(hours=1)


def issue(user, *, remote_addr=None) -> tuple[EnrollmentSession, str]:
    raw = EnrollmentSession.new_token()
    session = EnrollmentSession.objects.create(
        tenant=user.tenant,
        user=user,
        token_hash=EnrollmentSession.hash_token(raw),
        expires_at=timezone.now() + PROFILE_WINDOW,
        remote_addr=remote_addr,
    )
    return session, raw


def bearer_from(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def session_for(raw: str | None, *, tenant_number: int) -> EnrollmentSession | None:
    """The session a bearer token belongs to, if it is still usable and of the active tenant
    with this number; its tenant and user joined."""
    if not raw:
        return None
    session = (
        EnrollmentSession.objects.select_related("tenant", "user")
        .filter(
            token_hash=EnrollmentSession.hash_token(raw),
            tenant__number=tenant_number,
            tenant__is_active=True,
        )
        .first()
    )
    if session is None or not session.token_usable():
        return None
    return session
