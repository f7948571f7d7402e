"""Configuration profiles: create, change, build and sign (the payloads devices install).

A profile is stored as a template: values may hold variables (``enrollment.profile_variables``)
that ``build_configuration_profile`` replaces for one user and device. ``Profile.identifier`` and
the payloads' identifiers and UUIDs never change, so a device that gets a new revision replaces
the profile it has. Every change of what a device would receive goes through ``record_change``,
which bumps ``revision`` and ``content_hash`` only when the built template really changed.
"""

import datetime as dt
import hmac
import json

from django.db import transaction
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from apple import plist, schema
from users import variables as profile_variables

from . import payload_catalogue, payload_values, signals
from .models import Profile, ProfilePayload
from .profiles import payload_prefix
from .signing import sign_profile


class InvalidProfile(ValueError):
    """A built profile does not validate against Apple's schema; ``errors`` says where."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


def configured():
    """Every configuration profile (of all tenants: scope it)."""
    return Profile.objects.filter(kind=Profile.Kind.CONFIGURATION)


def configuration_profiles(tenant):
    return configured().filter(tenant=tenant) if tenant is not None else Profile.objects.none()


def new_profile(tenant, **fields) -> Profile:
    """An unsaved configuration profile with its identifier derived (once) from the tenant."""
    profile = Profile(tenant=tenant, kind=Profile.Kind.CONFIGURATION, **fields)
    profile.identifier = f"{payload_prefix(tenant)}.profile.{profile.payload_uuid}"
    return profile


def create_profile(tenant, *, tags=(), payloads=(), **fields) -> Profile:
    """A saved configuration profile at revision 1; ``payloads`` are (type, values) pairs."""
    with transaction.atomic():
        profile = new_profile(tenant, **fields)
        profile.save()
        for payload_type, values in payloads:
            add_payload(profile, payload_type, values)
        record_change(profile)
        set_tags(profile, tags)
    return profile


def set_tags(profile: Profile, tags) -> None:
    # mdm follows the tags through m2m_changed, deletion through pre_delete.
    profile.tags.set(tags)


def saved(profile: Profile) -> bool:
    """After the profile or its payloads were saved: new revision if the content changed
    (announced by ``record_change``). Returns whether the revision changed."""
    return record_change(profile)


def delete_profile(profile: Profile) -> None:
    with transaction.atomic():
        profile.delete()


# Secrets: split off by dotted path, stored encrypted as JSON, merged back when building.


def split_secrets(payload_type: str, values: dict) -> tuple[dict, dict]:
    """(plain values, secrets by dotted path) of one payload's values."""
    plain = json.loads(json.dumps(payload_values.to_json(values)))
    secrets = {}
    for path in payload_catalogue.secret_paths(payload_type):
        *parents, leaf = path.split(".")
        holder = plain
        for name in parents:
            holder = holder.get(name) if isinstance(holder, dict) else None
        if isinstance(holder, dict) and leaf in holder:
            secrets[path] = holder.pop(leaf)
    return plain, secrets


def merge_secrets(plain: dict, secrets: dict) -> dict:
    merged = json.loads(json.dumps(plain))
    for path, value in secrets.items():
        *parents, leaf = path.split(".")
        holder = merged
        for name in parents:
            holder = holder.setdefault(name, {})
        holder[leaf] = value
    return merged


def payload_secrets(payload: ProfilePayload) -> dict:
    return json.loads(payload.secret_values) if payload.secret_values else {}


def set_payload_values(payload: ProfilePayload, values: dict, *, keep_secrets=()) -> None:
    """Store ``values`` (plist types) on ``payload``: secrets encrypted, the rest as JSON.
    Secret paths in ``keep_secrets`` that ``values`` lacks keep their stored value (a form
    shows secrets as "unchanged" and sends nothing for them)."""
    plain, secrets = split_secrets(payload.payload_type, values)
    stored = payload_secrets(payload) if payload.pk else {}
    for path in keep_secrets:
        if path not in secrets and path in stored:
            secrets[path] = stored[path]
    payload.values = plain
    payload.secret_values = json.dumps(secrets, sort_keys=True) if secrets else ""


def add_payload(profile: Profile, payload_type: str, values: dict) -> ProfilePayload:
    position = (max((p.position for p in profile.payloads.all()), default=-1)) + 1
    payload = ProfilePayload(
        tenant=profile.tenant, profile=profile, payload_type=payload_type, position=position
    )
    payload.identifier = f"{profile.identifier}.{payload.payload_uuid}"
    set_payload_values(payload, values)
    payload.save()
    return payload


def check_payload(payload_type, values) -> list[str]:
    """Why ``values`` (plist types, secrets included) cannot be stored as a payload of
    ``payload_type`` in a user-enrollment profile; empty when they can. Every message starts
    with the payload type and names the key."""
    if not isinstance(payload_type, str) or payload_type not in payload_catalogue.payload_types():
        entry = (
            schema.facts()["profiles"].get(payload_type) if isinstance(payload_type, str) else None
        )
        if entry and entry["ios"].get("ue") == "forbidden":
            return [f"{payload_type}: " + _("payload type forbidden in user enrollment")]
        return [f"{payload_type}: " + _("payload type not available for personal devices")]
    if not isinstance(values, dict):
        return [f"{payload_type}: " + _("values must be a dictionary")]
    errors = []
    managed = sorted(payload_catalogue.MANAGED_KEYS & set(values))
    errors += [f"{payload_type}.{key}: " + _("set by the portal, leave it out") for key in managed]
    for key in payload_catalogue.ignored_keys(payload_type) & set(values):
        errors.append(f"{payload_type}.{key}: " + _("ignored in user enrollment, leave it out"))
    unknown = profile_variables.unknown_variables(values)
    if unknown:
        errors.append(
            f"{payload_type}: "
            + _("unknown variable %(unknown)s (known: %(known)s)")
            % {
                "unknown": ", ".join(unknown),
                "known": ", ".join("$" + v for v in profile_variables.VARIABLES),
            }
        )
    sample = {
        "PayloadType": payload_type,
        "PayloadVersion": 1,
        "PayloadIdentifier": "check",
        "PayloadUUID": "check",
        **{k: v for k, v in values.items() if k not in payload_catalogue.MANAGED_KEYS},
    }
    errors += schema.validate_payload(sample, user_enrollment=True, label=payload_type)
    return errors


def payload_values_of(payload: ProfilePayload) -> dict:
    """The payload's own keys with secrets, in plist types (variables not replaced)."""
    return payload_values.from_json(merge_secrets(payload.values, payload_secrets(payload)))


def _payload_dict(payload: ProfilePayload) -> dict:
    content = {
        "PayloadType": payload.payload_type,
        "PayloadVersion": 1,
        "PayloadIdentifier": payload.identifier,
        "PayloadUUID": str(payload.payload_uuid).upper(),
    }
    values = payload_values_of(payload)
    values.setdefault("PayloadDisplayName", payload_catalogue.title(payload.payload_type))
    content.update({k: v for k, v in values.items() if k not in content})
    return content


def _template(profile: Profile) -> dict:
    top = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": profile.identifier,
        "PayloadUUID": str(profile.payload_uuid).upper(),
        "PayloadDisplayName": profile.name,
        "PayloadOrganization": profile.organization or profile.tenant.name,
    }
    if profile.description:
        top["PayloadDescription"] = profile.description
    if profile.removal == Profile.Removal.ON_DATE and profile.removal_date:
        top["RemovalDate"] = profile.removal_date.astimezone(dt.UTC).replace(tzinfo=None)
    elif profile.removal == Profile.Removal.AFTER_DAYS and profile.removal_after_days:
        top["DurationUntilRemoval"] = float(profile.removal_after_days * 86400)
    top["PayloadContent"] = [_payload_dict(payload) for payload in profile.payloads.all()]
    return top


def build_configuration_profile(profile: Profile, variables: dict) -> dict:
    """The profile as the device gets it: variables replaced, secrets decrypted. Raises
    ``InvalidProfile`` when the result is not valid for user enrollment."""
    built = profile_variables.substitute(_template(profile), variables)
    errors = schema.validate_profile(built, user_enrollment=True)
    if errors:
        raise InvalidProfile(errors)
    return built


def render_configuration_profile(profile: Profile, variables: dict) -> bytes:
    """The signed ``.mobileconfig`` (CMS SignedData around the XML plist)."""
    return sign_profile(plist.dumps(build_configuration_profile(profile, variables)))


def content_hash(profile: Profile) -> str:
    """Keyed hash of the template: equal iff devices would get the same profile. Keyed, because
    the template holds secrets that a plain hash would let anyone with the table guess at."""
    canonical = json.dumps(payload_values.to_json(_template(profile)), sort_keys=True)
    return salted_hmac(
        "enrollment.configuration_profile", canonical, algorithm="sha256"
    ).hexdigest()


def record_change(profile: Profile) -> bool:
    """After a change to the profile or its payloads: bump ``revision`` if what devices get
    changed. Returns whether it did; a change is announced (``configuration_profile_changed``)
    so that the devices it reaches get the new revision."""
    new_hash = content_hash(profile)
    if profile.content_hash and hmac.compare_digest(new_hash, profile.content_hash):
        return False
    changed = bool(profile.content_hash)
    Profile.objects.filter(pk=profile.pk).update(
        content_hash=new_hash, revision=profile.revision + int(changed)
    )
    profile.content_hash, profile.revision = new_hash, profile.revision + int(changed)
    if changed:
        signals.configuration_profile_changed.send(sender=Profile, profile=profile)
    return changed
