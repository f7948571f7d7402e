"""What a tenant still lacks before its devices can enroll (discovery refuses them until then).

The Register new device dialog shows these with a link to fix each; discovery applies the same
two checks.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apple.models import PushCertificate
from apple.push_identity import topic_of
from users.compiled import CompiledRow, attnames, instances
from users.models import Tenant

from .profiles import default_profiles


@dataclass(frozen=True)
class MissingStep:
    code: str
    message: str
    link_text: str
    url: str


def with_readiness(tenants, now=None):
    """Tenants annotated with what enrollment needs at ``now``: ``push_topic`` (of a valid push
    certificate) and ``default_profile_id``, None when missing. One query with the tenant."""
    return tenants.annotate(
        push_topic=topic_of(OuterRef("pk"), now),
        default_profile_id=Subquery(
            default_profiles().filter(tenant=OuterRef("pk")).values("pk")[:1]
        ),
    )


def _ready_query():
    return (
        with_readiness(Tenant.objects.filter(number=_NUMBER), now=_NOW)
        .order_by()  # the number is unique
        .values_list(*attnames(Tenant), "push_topic", "default_profile_id")[:1]
    )


# Markers of the compiled lookup (any values apart from the query's constants).
_NUMBER, _NOW = 987654321, dt.datetime(2001, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
_ready_row = CompiledRow(
    _ready_query,
    number=(Tenant._meta.get_field("number"), _NUMBER),
    now=(PushCertificate._meta.get_field("not_after"), _NOW),
)


def ready_tenant(number: int) -> Tenant | None:
    """The tenant with this number, annotated as ``with_readiness`` (discovery's lookup, one
    compiled query)."""
    row = _ready_row.row(number=number, now=timezone.now())
    if row is None:
        return None
    (tenant,) = instances(row, (Tenant, attnames(Tenant)))
    tenant.push_topic, tenant.default_profile_id = row[-2:]
    return tenant


def missing_steps(tenant) -> list[MissingStep]:
    if not hasattr(tenant, "push_topic"):
        tenant = with_readiness(Tenant.objects.filter(pk=tenant.pk)).get()
    steps = []
    if tenant.push_topic is None:
        steps.append(
            MissingStep(
                "push_certificate",
                _("There is no valid Apple push certificate, so devices cannot enroll yet."),
                _("Add it in Settings"),
                reverse("mobile_settings:index") + "#push-certificate",
            )
        )
    if tenant.default_profile_id is None:
        steps.append(
            MissingStep(
                "default_profile",
                _("There is no default User registration profile, so devices cannot enroll yet."),
                _("Add a profile"),
                reverse("enrollment:profiles"),
            )
        )
    return steps
