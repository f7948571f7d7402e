"""Local account addresses: ``<username>-<tenant number>@<portal host>``.

The user types this address on the device; discovery splits it back into tenant and user.
Usernames allow letters, digits, dots and underscores only (``users.models.username_validator``),
so the last ``-`` always separates the tenant number, and the address is safe to print and mail.
Addresses compare case-insensitively; the canonical form is lower case.
"""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

_LOCAL_PART = re.compile(r"^(?P<user>[a-z0-9][a-z0-9._]*)-(?P<number>[0-9]{6,9})$")


def portal_host() -> str:
    """The host part of addresses: the host devices reach (``PORTAL_BASE_URL``), no port."""
    return (urlsplit(settings.PORTAL_BASE_URL).hostname or "localhost").lower()


def local_address(user) -> str:
    return f"{user.username.lower()}-{user.tenant.number}@{portal_host()}"


@dataclass(frozen=True)
class ParsedAddress:
    username: str
    tenant_number: int
    domain: str


def parse_address(identifier: str) -> ParsedAddress | None:
    """Split a typed identifier like the device does (at the last ``@``); None if it is not ours."""
    local, sep, domain = identifier.strip().rpartition("@")
    if not sep or not local or not domain:
        return None
    match = _LOCAL_PART.match(local.lower())
    if not match:
        return None
    return ParsedAddress(match["user"], int(match["number"]), domain.lower())


def is_portal_domain(domain: str) -> bool:
    return domain.lower() == portal_host()
