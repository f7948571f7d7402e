"""The active tenant with a number: how device and end-user endpoints (whose URLs carry the
tenant number) find their tenant, in one compiled lookup (``users.compiled``)."""

from django.http import Http404

from .compiled import CompiledRow, attnames, instances
from .models import Tenant

_NUMBER = 987654321  # the marker (any value but the query's constants)
_row = CompiledRow(
    lambda: (
        Tenant.objects.filter(number=_NUMBER, is_active=True)
        .order_by()  # the number is unique
        .values_list(*attnames(Tenant))[:1]
    ),
    number=(Tenant._meta.get_field("number"), _NUMBER),
)


def active_tenant(number: int) -> Tenant | None:
    row = _row.row(number=number)
    return None if row is None else instances(row, (Tenant, attnames(Tenant)))[0]


def active_tenant_or_404(number: int) -> Tenant:
    tenant = active_tenant(number)
    if tenant is None:
        raise Http404("no such tenant")
    return tenant
