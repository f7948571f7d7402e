"""The active tenant with a number: how device and end-user endpoints (whose URLs carry the
tenant number) find their tenant, in one compiled lookup (``users.compiled``)."""

from django.http import Http404

from .compiled import CompiledObject
from .models import Tenant

_NUMBER = 987654321  # the marker (any value but the query's constants)
_tenant = CompiledObject(
    lambda: Tenant.objects.filter(number=_NUMBER, is_active=True).order_by(),  # unique
    number=(Tenant._meta.get_field("number"), _NUMBER),
)


def active_tenant(number: int) -> Tenant | None:
    return _tenant.get(number=number)


def active_tenant_or_404(number: int) -> Tenant:
    tenant = active_tenant(number)
    if tenant is None:
        raise Http404("no such tenant")
    return tenant
