"""The audit log: one helper that records who did what to which object."""

import logging

from .models import Account, AuditEvent

log = logging.getLogger("portal.audit")


def record(actor, action: str, obj=None, *, tenant=None, **details) -> AuditEvent:
    """Record an event. ``actor`` is an Account, a label such as "device:<id>", or None."""
    if tenant is None and obj is not None:
        tenant = getattr(obj, "tenant", None)
    account = actor if isinstance(actor, Account) else None
    label = account.get_username() if account else str(actor or "system")
    event = AuditEvent.objects.create(
        tenant=tenant,
        actor=account,
        actor_label=label[:200],
        action=action,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        details=details,
    )
    log.info("audit %s by %s on %s", action, label, event.object_repr or "-")
    return event
