"""Invitations: recorded first, mailed by a Celery task, re-sendable."""

from users.audit import record

from .models import Invitation


class InvitationError(ValueError):
    pass


def invite(
    tenant, user, *, account=None, kind=Invitation.Kind.ACCOUNT_USER_ENROLLMENT
) -> Invitation:
    if user.tenant_id != tenant.pk:
        raise InvitationError("unknown user")
    if not user.is_active:
        raise InvitationError("The user is deactivated.")
    if not user.managed_apple_id:
        raise InvitationError("The user has no managed Apple ID.")
    if not user.email:
        raise InvitationError("The user has no e-mail address.")
    invitation = Invitation.objects.create(tenant=tenant, user=user, kind=kind, invited_by=account)
    record(account, "enrollment.invitation_sent", invitation, user=user.username)
    return invitation


def resend(invitation: Invitation, *, account=None) -> None:
    record(account, "enrollment.invitation_resent", invitation, user=invitation.user.username)
