"""What a tenant still lacks before its devices can enroll (discovery refuses them until then).

The Register new device dialog shows these with a link to fix each; discovery applies the same
two checks.
"""

from dataclasses import dataclass

from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apple.push_identity import topic_of
from users.models import Tenant

from .profiles import default_profiles


@dataclass(frozen=True)
class MissingStep:
    code: str
    message: str
    link_text: str
    url: str


def with_readiness(tenants):
    """Tenants annotated with what enrollment needs: ``push_topic`` (of a valid push
    certificate) and ``default_profile_id``, None when missing. One query with the tenant."""
    return tenants.annotate(
        push_topic=topic_of(OuterRef("pk")),
        default_profile_id=Subquery(
            default_profiles().filter(tenant=OuterRef("pk")).values("pk")[:1]
        ),
    )


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
