"""The timeline of a device tile: its enrollment (web login, profile, terms) and check-ins."""

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from .models import Device

EVENT_LABELS = {
    "authenticate": _("Authenticate: identity certificate pinned"),
    "token_update": _("TokenUpdate: push token received"),
    "check_out": _("CheckOut: management removed on the device"),
    "ddm_status": _("Declarative management status report"),
    "command_report": _("Command result"),
    "removal_requested": _("Removal of management requested"),
    "removed": _("Management removed (RemoveProfile sent, enrollment ended)"),
    "identity_renewal_requested": _("Identity renewal sent (new enrollment profile)"),
    "identity_renewed": _("Identity renewed: new certificate pinned"),
}


@dataclass(frozen=True)
class Entry:
    at: datetime
    text: str


def timeline(device: Device, limit: int = 100) -> list[Entry]:
    entries = [
        Entry(e.created_at, str(EVENT_LABELS.get(e.kind, e.kind)))
        for e in device.events.all()[:limit]
    ]
    session = device.session
    if session is not None:
        entries.append(Entry(session.created_at, str(_("Signed in on the device (web login)"))))
        if session.profile_delivered_at:
            entries.append(
                Entry(session.profile_delivered_at, str(_("Enrollment profile delivered")))
            )
        for acceptance in session.terms_acceptances.select_related("terms"):
            entries.append(
                Entry(
                    acceptance.accepted_at,
                    str(
                        _("Terms of use version %(version)s accepted")
                        % {"version": acceptance.terms.version}
                    ),
                )
            )
    return sorted(entries, key=lambda e: e.at, reverse=True)
