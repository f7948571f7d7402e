"""What the settings page and the dashboard say about a tenant's Apple credentials."""

from dataclasses import dataclass

from apple import expiry
from apple.models import PushCertificate, VppToken


@dataclass
class CredentialState:
    push: PushCertificate | None
    push_status: expiry.ExpiryStatus
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
    return CredentialState(
        push=push,
        push_status=expiry.status(installed.not_after if installed else None),
        vpp=vpp,
        vpp_status=expiry.status(vpp.expires_at if vpp else None),
    )
