"""The optional second factor of the enrollment web login: TOTP (RFC 6238) via django-otp.

The secret is stored encrypted on the managed user; a code is accepted once (the last used
time step is remembered), with one step of clock drift either way.
"""

import base64
import io
import secrets
from urllib.parse import quote, urlencode

from django_otp.oath import TOTP

from .models import ManagedUser

STEP, DIGITS = 30, 6


def new_secret() -> str:
    return secrets.token_hex(20)


def is_enabled(user: ManagedUser) -> bool:
    return bool(user.totp_secret)


def _matching_step(secret_hex: str, code: str) -> int | None:
    code = "".join(code.split())
    if not code.isdigit() or len(code) != DIGITS:
        return None
    totp = TOTP(bytes.fromhex(secret_hex), step=STEP, digits=DIGITS)
    for drift in (0, -1, 1):
        totp.drift = drift
        if totp.token() == int(code):
            return totp.t()
    return None


def code_matches(secret_hex: str, code: str) -> bool:
    return _matching_step(secret_hex, code) is not None


def verify(user: ManagedUser, code: str) -> bool:
    """Check a code and burn its time step, so a seen code cannot be replayed."""
    if not user.totp_secret:
        return False
    step = _matching_step(user.totp_secret, code)
    if step is None or step <= user.totp_last_step:
        return False
    updated = ManagedUser.objects.filter(pk=user.pk, totp_last_step__lt=step).update(
        totp_last_step=step
    )
    user.totp_last_step = step
    return bool(updated)


def enable(user: ManagedUser, secret_hex: str) -> None:
    user.totp_secret = secret_hex
    user.totp_last_step = 0
    user.save(update_fields=["totp_secret", "totp_last_step"])


def disable(user: ManagedUser) -> None:
    user.totp_secret = ""
    user.save(update_fields=["totp_secret"])


def provisioning_uri(user: ManagedUser, secret_hex: str) -> str:
    secret32 = base64.b32encode(bytes.fromhex(secret_hex)).decode().rstrip("=")
    label = quote(f"{user.tenant.name}:{user.username}")
    query = urlencode(
        {"secret": secret32, "issuer": user.tenant.name, "digits": DIGITS, "period": STEP}
    )
    return f"otpauth://totp/{label}?{query}"


def qr_svg(uri: str) -> str:
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()
