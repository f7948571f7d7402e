"""What the settings page and the dashboard say about a tenant's Apple credentials."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from apple import expiry
from apple.models import PushCertificate, VppToken


@dataclass(frozen=True)
class DemoStatus:
    """A demo push certificate: its dates may be fine, but Apple refuses it, so never "Valid"."""

    days_left: int | None
    code: str = "valid"  # valid | expiring: the date's state, for the expiry banners
    css: str = "warn"
    label: str = _("Demo only: Apple refuses it")


@dataclass
class CredentialState:
    push: PushCertificate | None
    push_status: expiry.ExpiryStatus | DemoStatus
    vpp: VppToken | None
    vpp_status: expiry.ExpiryStatus

    @property
    def vpp_problem(self) -> str:
        """A token state that is worse than its date says (revoked, replaced, claimed)."""
        if self.vpp is not None and self.vpp.status not in (
            VppToken.Status.VALID,
            VppToken.Status.EXPIRED,
        ):
            text = str(self.vpp.get_status_display())
            return f"{text} ({self.vpp.other_mdm_name})" if self.vpp.other_mdm_name else text
        return ""


def credential_state(tenant) -> CredentialState:
    push = PushCertificate.objects.for_tenant(tenant).first()
    installed = push if push is not None and push.is_installed else None
    vpp = VppToken.objects.for_tenant(tenant).first()
    push_status = expiry.status(installed.not_after if installed else None)
    if installed is not None and installed.is_demo and push_status.code in ("valid", "expiring"):
        push_status = DemoStatus(push_status.days_left, push_status.code)
    return CredentialState(
        push=push,
        push_status=push_status,
        vpp=vpp,
        vpp_status=expiry.status(vpp.expires_at if vpp else None),
    )
