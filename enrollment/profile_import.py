"""Import of an existing ``.mobileconfig`` (signed or not) as a configuration profile.

``read_profile`` is the one error boundary for the file: whatever is wrong with it, the caller
gets an ``ImportResult`` with ``errors`` (never an exception). Every key of every payload gets
one report row: accepted, forbidden in user enrollment, ignored in user enrollment, unknown,
not kept (top-level keys the portal sets itself or does not offer) or invalid. Forbidden,
ignored and unknown keys and payloads are left out; invalid values (the same
``configuration_profiles.check_payload`` the editor and API use) block the import.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from apple import cms, plist, schema

from . import configuration_profiles, payload_catalogue
from .models import Profile

MAX_FILE = 5 * 1024 * 1024

ACCEPTED = "accepted"
FORBIDDEN = "forbidden"
IGNORED = "ignored"
UNKNOWN = "unknown"
NOT_KEPT = "not_kept"
INVALID = "invalid"

# Top-level keys that become the profile's General fields; the identity keys are the portal's.
_GENERAL = {"PayloadDisplayName": "name", "PayloadDescription": "description"}
_GENERAL["PayloadOrganization"] = "organization"
_PORTAL_SETS = {"PayloadIdentifier", "PayloadUUID"}
_STRUCTURE = {"PayloadType", "PayloadVersion"}  # no row: every payload has them


STATUS_LABELS = {
    ACCEPTED: _("Accepted"),
    FORBIDDEN: _("Forbidden in user enrollment"),
    IGNORED: _("Ignored in user enrollment"),
    UNKNOWN: _("Unknown"),
    NOT_KEPT: _("Not kept"),
    INVALID: _("Invalid"),
}


@dataclass
class Row:
    payload: str
    key: str
    status: str
    message: str = ""

    @property
    def status_label(self):
        return STATUS_LABELS[self.status]


@dataclass
class ImportResult:
    signed_by: str = ""
    fields: dict = field(default_factory=dict)
    payloads: list = field(default_factory=list)  # (payload type, values)
    rows: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    @property
    def can_save(self) -> bool:
        return not self.errors and not any(row.status == INVALID for row in self.rows)


def read_profile(data: bytes) -> ImportResult:
    result = ImportResult()
    if not isinstance(data, bytes) or not data:
        result.errors.append(_("The file is empty."))
        return result
    if len(data) > MAX_FILE:
        result.errors.append(_("The file is larger than 5 MB."))
        return result
    if data[:1] == b"\x30":  # DER SEQUENCE: a signed profile
        try:
            verified = cms.verify(data)
        except cms.CMSError as exc:
            result.errors.append(
                _("The signature could not be checked: %(error)s") % {"error": exc}
            )
            return result
        result.signed_by = verified.signer.subject.rfc4514_string()
        data = verified.content
    try:
        top = plist.loads(data, max_size=MAX_FILE, reject_nul=True)
    except plist.PlistError as exc:
        result.errors.append(_("Not a configuration profile: %(error)s") % {"error": exc})
        return result
    if top.get("PayloadType") != "Configuration":
        result.errors.append(_("Not a configuration profile: PayloadType is not Configuration."))
        return result
    if top.get("IsEncrypted") or "EncryptedPayloadContent" in top:
        result.errors.append(_("Encrypted profiles cannot be imported; export it unencrypted."))
        return result
    _read_top_level(top, result)
    content = top.get("PayloadContent")
    if not isinstance(content, list):
        result.errors.append(_("PayloadContent: must be a list of payloads."))
        return result
    for index, payload in enumerate(content):
        _read_payload(index, payload, result)
    return result


def _read_top_level(top: dict, result: ImportResult) -> None:
    specs = {spec["key"]: spec for spec in schema.facts()["profiles"]["TopLevel"]["keys"]}
    for key, value in top.items():
        if key == "PayloadContent":
            continue
        spec = specs.get(key)
        if spec is None:
            result.rows.append(Row("", key, UNKNOWN, _("not a key of configuration profiles")))
        elif spec.get("ios", {}).get("ue") == "forbidden":
            result.rows.append(Row("", key, FORBIDDEN, _("forbidden in user enrollment")))
        elif key in _GENERAL and isinstance(value, str):
            result.fields[_GENERAL[key]] = value[:120] if key != "PayloadDescription" else value
            result.rows.append(Row("", key, ACCEPTED))
        elif key in _STRUCTURE:
            continue
        elif key in _PORTAL_SETS:
            result.rows.append(Row("", key, NOT_KEPT, _("the portal sets its own")))
        elif key == "RemovalDate" and isinstance(value, dt.datetime):
            result.fields["removal"] = Profile.Removal.ON_DATE
            result.fields["removal_date"] = value.replace(tzinfo=dt.UTC)
            result.rows.append(Row("", key, ACCEPTED))
        elif key == "DurationUntilRemoval" and isinstance(value, int | float) and value > 0:
            result.fields["removal"] = Profile.Removal.AFTER_DAYS
            result.fields["removal_after_days"] = max(1, round(value / 86400))
            result.rows.append(Row("", key, ACCEPTED, _("rounded to whole days")))
        else:
            result.rows.append(Row("", key, NOT_KEPT, _("not offered by the portal")))
    result.fields.setdefault("name", str(_("Imported profile")))


def _read_payload(index: int, payload, result: ImportResult) -> None:
    if not isinstance(payload, dict):
        result.rows.append(Row(f"#{index + 1}", "", INVALID, _("a payload must be a dictionary")))
        return
    payload_type = payload.get("PayloadType")
    label = f"#{index + 1} {payload_type}"
    profiles = schema.facts()["profiles"]
    entry = profiles.get(payload_type) if isinstance(payload_type, str) else None
    if payload_type not in payload_catalogue.payload_types():
        if entry is not None and entry["ios"].get("ue") == "forbidden":
            result.rows.append(
                Row(label, "", FORBIDDEN, _("payload type forbidden in user enrollment"))
            )
        else:
            result.rows.append(Row(label, "", UNKNOWN, _("payload type not available")))
        return
    own = {spec["key"]: spec for spec in entry["keys"]}
    common = {spec["key"]: spec for spec in profiles["CommonPayloadKeys"]["keys"]}
    values, rows = {}, []
    for key, value in payload.items():
        spec = own.get(key) or common.get(key)
        ios = (spec or {}).get("ios", {})
        if key in _STRUCTURE:
            continue
        if key in payload_catalogue.MANAGED_KEYS:
            rows.append(Row(label, key, NOT_KEPT, _("the portal sets its own")))
        elif spec is None or ios.get("introduced") == "n/a" or "removed" in ios:
            rows.append(Row(label, key, UNKNOWN, _("not a key of this payload on iOS")))
        elif ios.get("ue") == "forbidden":
            rows.append(Row(label, key, FORBIDDEN, _("forbidden in user enrollment")))
        elif ios.get("ue") == "ignored":
            rows.append(Row(label, key, IGNORED, _("ignored in user enrollment")))
        else:
            values[key] = value
            rows.append(Row(label, key, ACCEPTED))
    errors = configuration_profiles.check_payload(payload_type, values)
    by_key = {row.key: row for row in rows if row.status == ACCEPTED}
    for message in errors:
        key = message.removeprefix(f"{payload_type}.").split(":")[0].split(".")[0].split("[")[0]
        row = by_key.get(key)
        if row is not None and row.status == ACCEPTED:
            row.status, row.message = INVALID, message
        else:
            rows.append(Row(label, key if key in by_key else "", INVALID, message))
    result.rows.extend(rows)
    if not errors:
        result.payloads.append((payload_type, values))


def save(tenant, result: ImportResult, *, tags=()) -> Profile:
    if not result.can_save:
        raise ValueError("the import has errors")
    return configuration_profiles.create_profile(
        tenant, tags=tags, payloads=result.payloads, **result.fields
    )
