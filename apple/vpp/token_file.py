"""The ``.vpptoken`` file from Apple Business Manager: base64 of JSON with token, expDate,
orgName. The whole base64 text is what authenticates API requests."""

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _

MAX_FILE = 64 * 1024  # a .vpptoken is a few kB: the rule for every path (web, API)


class TokenFileError(ValueError):
    pass


@dataclass(frozen=True)
class TokenFile:
    text: str
    org_name: str
    expires_at: datetime

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def _parse_date(value: str) -> datetime:
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def parse(data: bytes) -> TokenFile:
    if len(data) > MAX_FILE:
        raise TokenFileError(_("The file is too large for an Apps and Books token."))
    text = data.decode("ascii", errors="replace").strip()
    if not text:
        raise TokenFileError(_("This is not an Apps and Books token file (.vpptoken)."))
    try:
        payload = json.loads(base64.b64decode(text, validate=True))
        org_name, exp = payload["orgName"], payload["expDate"]
        if not payload.get("token") or not isinstance(org_name, str):
            raise KeyError("token")
        expires_at = _parse_date(exp)
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise TokenFileError(
            _("This is not an Apps and Books token file (.vpptoken) from Apple Business Manager.")
        ) from exc
    if expires_at.tzinfo is None:
        raise TokenFileError(_("The token's expiry date has no time zone."))
    return TokenFile(text, org_name, expires_at)
