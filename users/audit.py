"""The audit log: one helper that records who did what to which object."""

import logging

from django.utils.translation import gettext_lazy as _

from . import statements
from .models import Account, AuditEvent

# What each recorded action means, in words a person reads (the audit log, the dashboard).
# An action missing here is shown in a readable form of its code ("Vpp token installed").
ACTION_LABELS = {
    "account.login": _("Signed in"),
    "account.switch_tenant": _("Switched tenant"),
    "api_token.issue": _("API token issued"),
    "api_token.revoke": _("API token revoked"),
    "app.added": _("App added"),
    "app.updated": _("App changed"),
    "app.deleted": _("App removed"),
    "device.removed": _("Device removed"),
    "device.updated": _("Device settings changed"),
    "devices.tag_added": _("Tag added to devices"),
    "devices.tag_removed": _("Tag removed from devices"),
    "device.apps_changed": _("Apps of a device changed"),
    "enrollment.invitation_sent": _("Invitation sent"),
    "enrollment.invitation_resent": _("Invitation sent again"),
    "enrollment.web_login": _("Signed in to enroll a device"),
    "enrollment.terms_accepted": _("Terms accepted"),
    "enrollment.profile_delivered": _("Enrollment profile delivered"),
    "entra.saved": _("Microsoft Entra ID connection saved"),
    "entra.sync_started": _("Import from Microsoft Entra ID started"),
    "managed_user.created": _("User added"),
    "managed_user.updated": _("User changed"),
    "managed_user.deleted": _("User deleted"),
    "managed_user.bulk_activate": _("Users activated"),
    "managed_user.bulk_deactivate": _("Users deactivated"),
    "managed_user.bulk_delete": _("Users deleted"),
    "managed_user.password_link_sent": _("Password link sent"),
    "managed_user.password_set": _("Enrollment password set"),
    "managed_user.totp_enabled": _("Two-factor authentication turned on"),
    "profile.created": _("Profile added"),
    "profile.updated": _("Profile changed"),
    "profile.deleted": _("Profile deleted"),
    "push_certificate.requested": _("Push certificate request downloaded"),
    "push_certificate.installed": _("Push certificate installed"),
    "tag.created": _("Tag added"),
    "tag.updated": _("Tag changed"),
    "tag.deleted": _("Tag deleted"),
    "tag.members_changed": _("Tag members changed"),
    "selfservice.login": _("Signed in to install apps"),
    "selfservice.install_requested": _("App requested for installation"),
    "tenant.apple_reenrollment": _("Apple re-enrollment switched"),
    "terms.published": _("Terms published"),
    "users.csv_uploaded": _("CSV file uploaded"),
    "users.csv_import_started": _("CSV import started"),
    "users.csv_imported": _("CSV import finished"),
    "vpp_token.installed": _("Apps and Books token installed"),
}


def action_label(action: str) -> str:
    """The readable name of an action code such as ``account.login``."""
    if action in ACTION_LABELS:
        return str(ACTION_LABELS[action])
    return action.replace(".", " ").replace("_", " ").capitalize()


log = logging.getLogger("portal.audit")


def record(actor, action: str, obj=None, *, tenant=None, **details) -> AuditEvent:
    """Record an event. ``actor`` is an Account, a label such as "device:<id>", or None."""
    # One INSERT (statements.create): every web login and profile delivery records one.
    event = statements.create(_event(actor, action, obj, tenant, details))
    _log(event)
    return event


def record_part(actor, action: str, obj=None, *, tenant=None, **details) -> statements.Part:
    """``record`` as a part of the caller's ``statements.write_together``, for a request that
    stores the event with its own writes in one statement."""
    event = _event(actor, action, obj, tenant, details)
    _log(event)
    return statements.insert([event])


def _event(actor, action: str, obj, tenant, details: dict) -> AuditEvent:
    if tenant is None and obj is not None:
        tenant = getattr(obj, "tenant", None)
    account = actor if isinstance(actor, Account) else None
    label = account.get_username() if account else str(actor or "system")
    return AuditEvent(
        tenant=tenant,
        actor=account,
        actor_label=label[:200],
        action=action,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        details=details,
    )


def _log(event: AuditEvent) -> None:
    log.info("audit %s by %s on %s", event.action, event.actor_label, event.object_repr or "-")
