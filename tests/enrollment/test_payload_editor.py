"""The schema-driven payload editor: every payload type user enrollment allows, defaults that
validate, forbidden keys never offered and refused, secrets never rendered back."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apple import schema
from enrollment import configuration_profiles as cp
from enrollment import payload_catalogue
from enrollment.payload_forms import payload_form_class
from tests import factories

DER = b"0\x82\x01\x00-not-parsed-by-the-schema"
# The least an admin must fill in for each payload type beyond the editor's defaults.
REQUIRED = {
    "com.apple.airprint": {"AirPrint": "[]"},
    "com.apple.caldav.account": {"CalDAVHostName": "cal.example.com"},
    "com.apple.carddav.account": {"CardDAVHostName": "contacts.example.com"},
    "com.apple.cellularprivatenetwork.managed": {"DataSetName": "Net", "VersionNumber": "1"},
    "com.apple.dnsProxy.managed": {"AppBundleIdentifier": "com.example.dnsproxy"},
    "com.apple.education": {
        "OrganizationUUID": "6A3C0F6E-8C5B-4E4B-8E0A-1B8B8E1F1F00",
        "OrganizationName": "School",
        "UserIdentifier": "$USERNAME",
        "Groups": "[]",
        "Users": "[]",
    },
    "com.apple.extensiblesso": {"ExtensionIdentifier": "com.example.sso", "Type": "Redirect"},
    "com.apple.font": {"Font": DER},
    "com.apple.google-oauth": {"EmailAddress": "$EMAIL"},
    "com.apple.ldap.account": {"LDAPAccountHostName": "ldap.example.com"},
    "com.apple.mail.managed": {
        "EmailAccountType": "EmailTypeIMAP",
        "IncomingMailServerAuthentication": "EmailAuthPassword",
        "IncomingMailServerHostName": "imap.example.com",
        "OutgoingMailServerAuthentication": "EmailAuthPassword",
        "OutgoingMailServerHostName": "smtp.example.com",
    },
    "com.apple.relay.managed": {"Relays": "[]"},
    "com.apple.security.acme": {
        "DirectoryURL": "https://acme.example.com/directory",
        "ClientIdentifier": "client-1",
        "KeySize": "384",
        "KeyType": "ECSECPrimeRandom",
        "HardwareBound": "true",
        "Subject": '[[["CN", "$USERNAME"]]]',
    },
    "com.apple.security.pem": {"PayloadContent": DER},
    "com.apple.security.pkcs1": {"PayloadContent": DER},
    "com.apple.security.pkcs12": {"PayloadContent": DER, "Password": "p12-pass"},
    "com.apple.security.root": {"PayloadContent": DER},
    "com.apple.security.scep": {"PayloadContent": '{"URL": "https://scep.example.com/scep"}'},
    "com.apple.sso": {"Name": "Kerberos"},
    "com.apple.subscribedcalendar.account": {"SubCalAccountHostName": "cal.example.com/a.ics"},
    "com.apple.vpn.managed.applayer": {"VPNUUID": "vpn-1"},
    "com.apple.webClip.managed": {"URL": "https://intranet.example.com", "Label": "Intranet"},
}


def form_data(payload_type, extra=None):
    """What the browser sends for a new payload: the editor's initial values plus ``extra``."""
    form = payload_form_class(payload_type)()
    data, files = {}, {}
    for key, value in form.initial.items():
        data[key] = form.fields[key].prepare_value(value)
    for key, value in (extra or {}).items():
        if isinstance(value, bytes):
            files[key] = SimpleUploadedFile(f"{key}.bin", value)
        else:
            data[key] = value
    return data, files


def test_the_editor_offers_every_payload_type_user_enrollment_allows():
    allowed = {
        name
        for name, entry in schema.facts()["profiles"].items()
        if entry["ios"].get("ue") == "allowed"
    } - {"TopLevel", "CommonPayloadKeys", "com.apple.mdm"}
    assert set(payload_catalogue.payload_types()) == allowed
    assert len(allowed) >= 30
    in_tabs = {t for *_rest, types in payload_catalogue.CATEGORIES for t in types}
    assert in_tabs == allowed


@pytest.mark.parametrize("payload_type", payload_catalogue.payload_types())
def test_a_profile_from_the_editors_defaults_validates(tenant, payload_type):
    data, files = form_data(payload_type, REQUIRED.get(payload_type))
    form = payload_form_class(payload_type)(data=data, files=files)
    assert form.is_valid(), form.errors
    profile = factories.configuration_profile(tenant)
    form.save(profile)
    cp.record_change(profile)
    built = cp.build_configuration_profile(profile, {"USERNAME": "alice", "EMAIL": "a@x.org"})
    assert schema.validate_profile(built, user_enrollment=True) == []
    assert built["PayloadContent"][0]["PayloadType"] == payload_type


def _forbidden_keys():
    for payload_type in payload_catalogue.payload_types():
        for spec in schema.facts()["profiles"][payload_type]["keys"]:
            if spec.get("ios", {}).get("ue") == "forbidden":
                yield payload_type, spec["key"]


FORBIDDEN_KEYS = list(_forbidden_keys())


def test_forbidden_keys_exist_and_are_never_offered():
    assert ("com.apple.wifi.managed", "ProxyServer") in FORBIDDEN_KEYS
    assert ("com.apple.applicationaccess", "allowCamera") in FORBIDDEN_KEYS
    for payload_type, key in FORBIDDEN_KEYS:
        assert key not in payload_form_class(payload_type).base_fields
    for key in payload_catalogue.ignored_keys("com.apple.mobiledevice.passwordpolicy"):
        assert key not in payload_form_class("com.apple.mobiledevice.passwordpolicy").base_fields


@pytest.mark.parametrize("payload_type,key", FORBIDDEN_KEYS)
def test_every_forbidden_key_is_refused_by_the_check(payload_type, key):
    errors = cp.check_payload(payload_type, {key: True})
    assert any(f"{key}: forbidden in user enrollment" in e for e in errors), errors


@pytest.mark.parametrize(
    "payload_type",
    [n for n, e in schema.facts()["profiles"].items() if e["ios"].get("ue") == "forbidden"],
)
def test_every_forbidden_payload_type_is_refused(payload_type):
    assert cp.check_payload(payload_type, {}) == [
        f"{payload_type}: payload type forbidden in user enrollment"
    ]
    with pytest.raises(KeyError):
        payload_form_class(payload_type)


def test_a_forbidden_sub_key_in_a_nested_value_is_a_form_error():
    data, files = form_data(
        "com.apple.wifi.managed",
        {"SSID_STR": "x", "EAPClientConfiguration": json.dumps({"Bogus": 1})},
    )
    form = payload_form_class("com.apple.wifi.managed")(data=data)
    assert not form.is_valid()
    assert "EAPClientConfiguration.Bogus: unknown key" in form.errors["EAPClientConfiguration"][0]


def test_unknown_variable_is_a_form_error():
    data, _files = form_data(
        "com.apple.webClip.managed", {"URL": "https://x/$NOPE", "Label": "$USERNAME"}
    )
    form = payload_form_class("com.apple.webClip.managed")(data=data)
    assert not form.is_valid()
    assert "unknown variable $NOPE" in str(form.errors)


def test_secrets_are_not_rendered_back_and_kept_unless_replaced(tenant):
    profile = factories.configuration_profile(
        tenant,
        payloads=[("com.apple.wifi.managed", {"SSID_STR": "Office", "Password": "s3cret-wifi"})],
    )
    payload = profile.payloads.get()
    cls = payload_form_class("com.apple.wifi.managed")
    html = str(cls(payload=payload))
    assert "s3cret-wifi" not in html and "leave empty to keep it" in html
    form = cls(data={"SSID_STR": "Office 2", "Password": ""}, payload=payload)
    assert form.is_valid(), form.errors
    form.save(profile)
    assert cp.payload_values_of(payload)["Password"] == "s3cret-wifi"
    form = cls(data={"SSID_STR": "Office 2", "Password__remove": "on"}, payload=payload)
    assert form.is_valid(), form.errors
    form.save(profile)
    assert "Password" not in cp.payload_values_of(payload)
