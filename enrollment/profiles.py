"""The enrollment profile of account-driven user enrollment (adue-protocol.md §2.6).

``build_enrollment_profile`` returns the plist dict; ``enrollment_profile`` signs it and returns
the INSERT of its one-time SCEP challenge for the caller to store with its own writes.
Every profile built here must validate against Apple's schema (``apple.schema``); the tests
check that for each variant.
"""

import datetime as dt
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.db.models import OuterRef
from django.utils import timezone

from apple import plist
from apple.models import PushCertificate
from apple.push_identity import current_topic, topic_of
from enrollment.scep import services as scep
from users import statements
from users.compiled import CompiledRow, attnames, instances

from .models import EnrollmentSession, Profile
from .signing import sign_profile

SERVER_CAPABILITIES = ["com.apple.mdm.per-user-connections"]


class ProfileUnavailable(Exception):
    """The tenant cannot enroll right now (no push certificate, no profile)."""


def payload_prefix(tenant) -> str:
    """Reverse-DNS identifier base, e.g. ``com.example.portal.mdm.t123456``."""
    from .addresses import portal_host

    labels = [label for label in reversed(portal_host().split(".")) if label]
    return ".".join([*labels, "mdm", f"t{tenant.number}"])


def server_urls() -> tuple[str, str]:
    base = settings.PORTAL_BASE_URL.rstrip("/")
    return f"{base}/mdm/connect", f"{base}/mdm/checkin"


def default_profiles():
    return Profile.objects.filter(kind=Profile.Kind.USER_REGISTRATION, is_default=True)


# Markers of the compiled lookup (any values apart from the query's constants).
_TENANT, _NOW = 987654321, dt.datetime(2001, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
_profile_row = CompiledRow(
    lambda: (
        default_profiles()
        .filter(tenant_id=_TENANT)
        .annotate(push_topic=topic_of(OuterRef("tenant"), _NOW))
        .order_by("pk")
        .values_list(*attnames(Profile), "push_topic")[:1]
    ),
    tenant=(Profile._meta.get_field("tenant"), _TENANT),
    now=(PushCertificate._meta.get_field("not_after"), _NOW),
)


def _default_profile_with_topic(tenant) -> Profile | None:
    """The default profile, annotated ``push_topic`` (None without a valid push certificate)."""
    row = _profile_row.row(tenant=tenant.pk, now=timezone.now())
    if row is None:
        return None
    profile = instances(row, (Profile, attnames(Profile)))[0]
    profile.push_topic = row[-1]
    return profile


def _uuid() -> str:
    return str(uuid.uuid4()).upper()


def _certificate_payloads(pem_text: str, prefix: str) -> list[dict]:
    payloads = []
    if not pem_text.strip():
        return payloads
    for index, cert in enumerate(x509.load_pem_x509_certificates(pem_text.encode())):
        payloads.append(
            {
                "PayloadType": "com.apple.security.root",
                "PayloadVersion": 1,
                "PayloadIdentifier": f"{prefix}.root.{index}",
                "PayloadUUID": _uuid(),
                "PayloadDisplayName": cert.subject.rfc4514_string()[:60],
                "PayloadContent": cert.public_bytes(serialization.Encoding.DER),
            }
        )
    return payloads


def build_enrollment_profile(session: EnrollmentSession, *, challenge: str) -> dict:
    """The profile's plist dict, with ``challenge`` as its SCEP challenge (nothing is stored)."""
    tenant, user = session.tenant, session.user
    # The profile and the push topic in one query; the topic alone only when there is none.
    profile = _default_profile_with_topic(tenant)
    topic = profile.push_topic if profile is not None else current_topic(tenant)
    if topic is None:
        raise ProfileUnavailable("no valid push certificate")
    if profile is None:
        raise ProfileUnavailable("no default user registration profile")
    if not user.managed_apple_id:
        raise ProfileUnavailable("the user has no managed Apple ID")
    prefix = payload_prefix(tenant)
    server_url, checkin_url = server_urls()
    scep_uuid = _uuid()
    scep_payload = {
        "PayloadType": "com.apple.security.scep",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{prefix}.scep",
        "PayloadUUID": scep_uuid,
        "PayloadDisplayName": "MDM identity",
        "PayloadContent": {
            "URL": scep.scep_url(tenant),
            "Name": f"t{tenant.number}",
            "Challenge": challenge,
            "Keysize": 2048,
            "Key Type": "RSA",
            "Key Usage": 5,
            "Subject": [[["O", str(tenant.number)]], [["CN", session.subject_cn]]],
            "Retries": 3,
            "RetryDelay": 10,
        },
    }
    mdm_payload = {
        "PayloadType": "com.apple.mdm",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{prefix}.mdm",
        "PayloadUUID": _uuid(),
        "PayloadDisplayName": "Device management",
        "ServerURL": server_url,
        "CheckInURL": checkin_url,
        "Topic": topic,
        "IdentityCertificateUUID": scep_uuid,
        "EnrollmentMode": "BYOD",
        "AssignedManagedAppleID": user.managed_apple_id,
        "SignMessage": True,
        "CheckOutWhenRemoved": True,
        "ServerCapabilities": list(SERVER_CAPABILITIES),
    }
    top = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": prefix,
        "PayloadUUID": str(profile.payload_uuid).upper(),
        "PayloadDisplayName": profile.name,
        "PayloadOrganization": profile.organization or tenant.name,
        "PayloadContent": [
            *_certificate_payloads(profile.trusted_certificates, prefix),
            scep_payload,
            mdm_payload,
        ],
    }
    if profile.description:
        top["PayloadDescription"] = profile.description
    return top


def enrollment_profile(
    session: EnrollmentSession, *, challenge_ttl: dt.timedelta = scep.CHALLENGE_TTL
) -> tuple[bytes, statements.Part]:
    """The signed profile and the INSERT of its SCEP challenge: the caller stores it with what
    it writes beside it (the enrollment POST: one statement). Raises ``ProfileUnavailable``."""
    raw, challenge = scep.new_challenge(
        session.tenant, subject_cn=session.subject_cn, ttl=challenge_ttl
    )
    body = sign_profile(plist.dumps(build_enrollment_profile(session, challenge=raw)))
    return body, statements.insert([challenge])


# A renewal may wait for a device that answers NotNow; its challenge lasts as long.
RENEWAL_CHALLENGE_TTL = dt.timedelta(days=1)


def render_renewal_profile(session: EnrollmentSession) -> bytes:
    """The enrollment profile again for an enrolled device, with a fresh one-time challenge for
    a new identity certificate. Same identifiers, so installing it (``InstallProfile``) replaces
    the enrollment profile; the session, hence the EnrollmentID and bearer token, stay."""
    body, challenge = enrollment_profile(session, challenge_ttl=RENEWAL_CHALLENGE_TTL)
    statements.write_together([challenge])
    return body
