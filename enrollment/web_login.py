"""The enrollment web login: who may sign in, and the throttle.

Kept apart from the view so the rules are testable without HTTP. Failures say nothing about
which part was wrong (unknown user, no password, wrong password, wrong code).
"""

from dataclasses import dataclass

from django.db.models import Value
from django.db.models.functions import Upper
from django.utils.translation import gettext as _

from users.compiled import CompiledObject
from users.models import ManagedUser
from users.throttle import Throttle, fold

from .addresses import parse_address

per_identifier = Throttle("enroll-login-id", limit=5, window=15 * 60)
per_address = Throttle("enroll-login-ip", limit=50, window=15 * 60)


@dataclass
class LoginResult:
    user: ManagedUser | None = None
    needs_code: bool = False
    throttled: bool = False


def refusal(result: LoginResult) -> tuple[int, str, bool]:
    """What a sign-in page answers for a failed ``authenticate``: (HTTP status, message,
    whether to ask for the authenticator code)."""
    if result.throttled:
        return 429, _("Too many failed sign-ins. Please wait and try again."), False
    if result.needs_code:
        return 200, _("Enter the code from your authenticator app."), True
    return 401, _("The user name or password is not correct."), False


def find_user(tenant, identifier: str) -> ManagedUser | None:
    identifier = identifier.strip()
    if "@" in identifier:
        parsed = parse_address(identifier)
        if parsed is None or parsed.tenant_number != tenant.number:
            return None
        username = parsed.username
    else:
        username = identifier
    user = _user.get(tenant=tenant.pk, username=username)
    if user is not None:
        user._state.fields_cache["tenant"] = tenant
    return user


# Markers of the compiled lookup (any values apart from the query's constants).
_TENANT, _USERNAME = 987654321, "\x01username"
_user = CompiledObject(
    # UPPER = UPPER, as iexact is on PostgreSQL: a compiled LIKE would take the real value
    # unescaped, so "_" in it would match other users.
    lambda: (
        ManagedUser.objects.alias(folded=Upper("username"))
        .filter(tenant_id=_TENANT, folded=Upper(Value(_USERNAME)), is_active=True)
        .order_by("username")
    ),
    tenant=(ManagedUser._meta.get_field("tenant"), _TENANT),
    username=(ManagedUser._meta.get_field("username"), _USERNAME),
)


def throttle_identity(tenant, identifier: str) -> str:
    """Who the throttle counts: the user the lookup would find, so ``alice``,
    ``alice-123456@any.domain`` and ``ALICE`` share one counter (the lookup ignores the domain
    and case)."""
    identifier = identifier.strip()
    if "@" in identifier:
        parsed = parse_address(identifier)
        if parsed is not None and parsed.tenant_number == tenant.number:
            return fold(parsed.username)
    return fold(identifier)


def _totp():
    try:
        from users import totp
    except ImportError:  # the users app may not offer TOTP
        return None
    return totp


def authenticate(
    tenant, identifier: str, password: str, code: str, remote_addr: str
) -> LoginResult:
    key = (str(tenant.number), throttle_identity(tenant, identifier))
    if per_identifier.is_locked(*key) or per_address.is_locked(remote_addr or "-"):
        return LoginResult(throttled=True)
    user = find_user(tenant, identifier)
    ok = user.check_enrollment_password(password) if user else _burn(password)
    if ok and not user.managed_apple_id:
        ok = False
    totp = _totp()
    if ok and totp is not None and totp.is_enabled(user):
        if not code:
            return LoginResult(needs_code=True)
        ok = totp.verify(user, code)
    if not ok:
        per_identifier.failure(*key)
        per_address.failure(remote_addr or "-")
        return LoginResult()
    per_identifier.reset(*key)
    return LoginResult(user=user)


def _burn(password: str) -> bool:
    """Spend the hashing time of a real check so unknown users are not faster."""
    ManagedUser(enrollment_password="").check_enrollment_password(password)
    return False
