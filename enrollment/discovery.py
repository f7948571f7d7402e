"""Service discovery: which enrollment server a typed address belongs to (§1 of the reference).

The tenant and what enrollment needs of it (``readiness``) are read in one query.

Decision on unknown users: a syntactically valid address of an existing, ready tenant gets the
tenant's BaseURL whether or not the user exists, and the web login fails later. Answering 403
for unknown users would let anyone probe which addresses exist; the tenant part is not secret
(its number is in every address), so refusing unknown or unready *tenants* leaks nothing new.
"""

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from users.models import Tenant

from .addresses import is_portal_domain, parse_address
from .readiness import ready_tenant

SUPPORTED_MODEL_FAMILIES = {"iPhone", "iPad"}


@dataclass(frozen=True)
class Refusal:
    description: str  # for logs
    message: str  # may be shown on the device


def resolve(user_identifier: str, model_family: str) -> tuple[Tenant | None, Refusal | None]:
    if model_family not in SUPPORTED_MODEL_FAMILIES:
        return None, Refusal(
            f"unsupported model family {model_family!r}",
            "This organisation enrolls only iPhone and iPad with this address.",
        )
    parsed = parse_address(user_identifier)
    if parsed is None or not is_portal_domain(parsed.domain):
        return None, Refusal("not a local account address of this portal", "Unknown account.")
    tenant = ready_tenant(parsed.tenant_number)
    if tenant is None or not tenant.is_active:
        return None, Refusal("unknown or disabled tenant", "Unknown account.")
    if tenant.push_topic is None:
        return None, Refusal(
            f"tenant {tenant.number} has no valid push certificate",
            "Your organisation cannot enroll devices right now.",
        )
    if tenant.default_profile_id is None:
        return None, Refusal(
            f"tenant {tenant.number} has no default user registration profile",
            "Your organisation cannot enroll devices right now.",
        )
    return tenant, None


def base_url(tenant) -> str:
    return settings.PORTAL_BASE_URL + reverse("enrollment-device:enroll", args=[tenant.number])


def login_url(tenant) -> str:
    return settings.PORTAL_BASE_URL + reverse("enduser-enrollment:login", args=[tenant.number])


def web_login_challenge(tenant) -> str:
    """The ``WWW-Authenticate`` value that sends the device to the web login (§2.2)."""
    return f'Bearer method="apple-as-web", url="{login_url(tenant)}"'
