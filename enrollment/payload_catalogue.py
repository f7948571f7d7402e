"""Which payloads a configuration profile may carry in user enrollment, and how they are shown.

Everything about keys comes from Apple's schema facts (``apple.schema.facts()``): a payload type
is offered when iOS supports it and user enrollment allows it; a key is offered when iOS supports
it and user enrollment neither forbids nor ignores it. What is ours: the tabs (categories) with
their help text, and which keys are secrets (stored encrypted, never shown again).
"""

import functools

from django.utils.translation import gettext_lazy as _

from apple import schema

# The enrollment payload (com.apple.mdm) only ever comes from the User registration profile.
NOT_OFFERED = frozenset({"TopLevel", "CommonPayloadKeys", "com.apple.mdm"})
# Keys every payload gets from the portal (identity of the payload on the device).
MANAGED_KEYS = frozenset({"PayloadType", "PayloadVersion", "PayloadIdentifier", "PayloadUUID"})

# (slug, label, help text, payload types) in tab order; "general" is the profile itself.
CATEGORIES = [
    (
        "accounts",
        _("Accounts"),
        _(
            "Mail, Exchange, calendar, contacts and directory accounts. They are managed: their "
            "data stays in the managed part of the device and goes away with the enrollment."
        ),
        [
            "com.apple.mail.managed",
            "com.apple.eas.account",
            "com.apple.caldav.account",
            "com.apple.carddav.account",
            "com.apple.ldap.account",
            "com.apple.subscribedcalendar.account",
            "com.apple.google-oauth",
        ],
    ),
    (
        "wifi",
        _("Wi-Fi"),
        _(
            "Networks the device joins. Proxy settings and fixed hardware addresses are not "
            "possible on personal devices."
        ),
        ["com.apple.wifi.managed"],
    ),
    (
        "vpn",
        _("VPN"),
        _(
            "Per-app VPN and relays: only managed apps and the listed domains use the tunnel, "
            "never the user's own traffic."
        ),
        ["com.apple.vpn.managed.applayer", "com.apple.relay.managed"],
    ),
    (
        "certificates",
        _("Certificates"),
        _(
            "Root and intermediate certificates to trust, identities (PKCS#12) and identities "
            "the device requests itself (SCEP, ACME). Other payloads refer to them."
        ),
        [
            "com.apple.security.root",
            "com.apple.security.pem",
            "com.apple.security.pkcs1",
            "com.apple.security.pkcs12",
            "com.apple.security.scep",
            "com.apple.security.acme",
            "com.apple.security.certificaterevocation",
            "com.apple.security.certificatetransparency",
        ],
    ),
    (
        "webclips",
        _("Web clips"),
        _("Icons on the home screen that open a web address."),
        ["com.apple.webClip.managed"],
    ),
    ("fonts", _("Fonts"), _("Fonts installed for all apps."), ["com.apple.font"]),
    (
        "webfilter",
        _("Web content filter"),
        _("A content filter app or plug-in that filters the traffic of managed apps."),
        ["com.apple.webcontent-filter"],
    ),
    (
        "sso",
        _("Single sign-on extension"),
        _("Single sign-on for apps and websites through an identity provider's extension."),
        ["com.apple.extensiblesso", "com.apple.sso"],
    ),
    (
        "restrictions",
        _("Restrictions"),
        _(
            "Only the restrictions Apple allows on personal devices are offered; they apply to "
            "the managed apps and data."
        ),
        ["com.apple.applicationaccess"],
    ),
    (
        "passcode",
        _("Passcode"),
        _(
            "On personal devices the device only enforces a passcode of at least six digits; "
            "Apple ignores the other passcode rules there, so they are not offered."
        ),
        ["com.apple.mobiledevice.passwordpolicy"],
    ),
    (
        "airprint",
        _("AirPrint"),
        _("Printers shown to the user."),
        ["com.apple.airprint"],
    ),
    (
        "other",
        _("Other"),
        _("AirPlay destinations, DNS proxy, cellular and Ethernet settings, Classroom."),
        [
            "com.apple.airplay",
            "com.apple.cellularprivatenetwork.managed",
            "com.apple.dnsProxy.managed",
            "com.apple.education",
            "com.apple.globalethernet.managed",
        ],
    ),
]

# Secret keys per payload type, as dotted paths into nested dictionaries.
SECRET_KEYS = {
    "com.apple.airplay": {"Passwords"},
    "com.apple.caldav.account": {"CalDAVPassword"},
    "com.apple.carddav.account": {"CardDAVPassword"},
    "com.apple.eas.account": {"Password", "Certificate", "CertificatePassword"},
    "com.apple.extensiblesso": {"RegistrationToken"},
    "com.apple.ldap.account": {"LDAPAccountPassword"},
    "com.apple.mail.managed": {"IncomingPassword", "OutgoingPassword"},
    "com.apple.security.pkcs12": {"PayloadContent", "Password"},
    "com.apple.security.scep": {"PayloadContent.Challenge"},
    "com.apple.subscribedcalendar.account": {"SubCalAccountPassword"},
    "com.apple.webcontent-filter": {"Password"},
    "com.apple.wifi.managed": {"Password", "EAPClientConfiguration.UserPassword"},
}

APPLE_DOCS = "https://developer.apple.com/documentation/devicemanagement/"


def _supported(spec_or_entry: dict) -> bool:
    ios = spec_or_entry.get("ios", {})
    return ios.get("introduced") != "n/a" and "removed" not in ios


def key_offered(spec: dict) -> bool:
    """iOS supports the key and user enrollment neither forbids nor ignores it."""
    return _supported(spec) and spec.get("ios", {}).get("ue") not in ("forbidden", "ignored")


@functools.cache
def payload_types() -> tuple[str, ...]:
    """Every payload type a configuration profile may carry in user enrollment."""
    profiles = schema.facts()["profiles"]
    return tuple(
        name
        for name, entry in sorted(profiles.items())
        if name not in NOT_OFFERED
        and entry["ios"]
        and _supported(entry)
        and entry["ios"].get("ue") not in (None, "forbidden")
    )


def category_of(payload_type: str) -> str:
    for slug, _label, _help, types in CATEGORIES:
        if payload_type in types:
            return slug
    return "other"


def title(payload_type: str) -> str:
    return schema.facts()["profiles"][payload_type].get("title") or payload_type


def key_specs(payload_type: str) -> list[dict]:
    """The keys of ``payload_type`` the editor offers (its own keys, then the common ones)."""
    profiles = schema.facts()["profiles"]
    own = profiles[payload_type]["keys"]
    names = {spec["key"] for spec in own}
    common = [
        spec
        for spec in profiles["CommonPayloadKeys"]["keys"]
        if spec["key"] not in names and spec["key"] not in MANAGED_KEYS
    ]
    return [spec for spec in own + common if key_offered(spec) and spec["key"] != "ANY"]


def ignored_keys(payload_type: str) -> frozenset[str]:
    """Keys the device ignores in user enrollment (they have no effect there)."""
    keys = schema.facts()["profiles"][payload_type]["keys"]
    return frozenset(s["key"] for s in keys if s.get("ios", {}).get("ue") == "ignored")


def secret_paths(payload_type: str) -> frozenset[str]:
    return frozenset(SECRET_KEYS.get(payload_type, ()))


def docs_url(payload_type: str) -> str:
    """Apple's page of a payload, e.g. .../devicemanagement/wifi."""
    return APPLE_DOCS + _doc_slug(payload_type)


_DOC_SLUGS = {
    "com.apple.wifi.managed": "wifi",
    "com.apple.mail.managed": "mail",
    "com.apple.eas.account": "exchangeactivesync",
    "com.apple.caldav.account": "caldav",
    "com.apple.carddav.account": "carddav",
    "com.apple.ldap.account": "ldap",
    "com.apple.subscribedcalendar.account": "subscribedcalendar",
    "com.apple.google-oauth": "googleaccount",
    "com.apple.vpn.managed.applayer": "applayervpn",
    "com.apple.relay.managed": "relay",
    "com.apple.security.root": "certificateroot",
    "com.apple.security.pem": "certificatepem",
    "com.apple.security.pkcs1": "certificatepkcs1",
    "com.apple.security.pkcs12": "certificatepkcs12",
    "com.apple.security.scep": "scep",
    "com.apple.security.acme": "acmecertificate",
    "com.apple.security.certificaterevocation": "certificaterevocation",
    "com.apple.security.certificatetransparency": "certificatetransparency",
    "com.apple.webClip.managed": "webclip",
    "com.apple.font": "font",
    "com.apple.webcontent-filter": "webcontentfilter",
    "com.apple.extensiblesso": "extensiblesinglesignon",
    "com.apple.sso": "singlesignon",
    "com.apple.applicationaccess": "restrictions",
    "com.apple.mobiledevice.passwordpolicy": "passcode",
    "com.apple.airprint": "airprint",
    "com.apple.airplay": "airplay",
    "com.apple.cellularprivatenetwork.managed": "cellularprivatenetwork",
    "com.apple.dnsProxy.managed": "dnsproxy",
    "com.apple.education": "education",
    "com.apple.globalethernet.managed": "globalethernet",
}


def _doc_slug(payload_type: str) -> str:
    return _DOC_SLUGS.get(payload_type) or title(payload_type).lower().replace(" ", "")
