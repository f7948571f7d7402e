"""Links with which managed users set the password of the enrollment web login.

The token is Django's password-reset token computed over the user's current password hash,
so a link stops working once it has been used (or the password changed otherwise) and
after ``PASSWORD_RESET_TIMEOUT`` (3 days by default).
"""

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from .models import ManagedUser


class _EnrollmentPasswordTokens(PasswordResetTokenGenerator):
    key_salt = "users.enrollment_password"

    def _make_hash_value(self, user, timestamp):
        changed = (
            user.password_changed_at.replace(microsecond=0) if user.password_changed_at else ""
        )
        return f"{user.pk}{user.enrollment_password}{changed}{timestamp}{user.is_active}"


tokens = _EnrollmentPasswordTokens()


def build_set_password_url(user: ManagedUser) -> str:
    path = reverse(
        "enduser-users:set-password",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": tokens.make_token(user),
        },
    )
    return settings.PORTAL_BASE_URL + path


def user_for_link(uidb64: str, token: str) -> ManagedUser | None:
    try:
        pk = int(urlsafe_base64_decode(uidb64).decode())
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
    user = ManagedUser.objects.filter(pk=pk, is_active=True).select_related("tenant").first()
    if user is None or not tokens.check_token(user, token):
        return None
    return user
