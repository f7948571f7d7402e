"""The facts table of Apple's schema and the validator built on it."""

import copy
import os
import plistlib
from pathlib import Path

import pytest

from apple import schema

ROOT = Path(__file__).parents[2]
VECTORS = ROOT / "tests" / "fixtures" / "vectors"
SCHEMA_DIR = Path(
    os.environ.get("APPLE_SCHEMA_DIR", ROOT.parent / "shared" / "apple-device-management")
)

PROFILE = {
    "PayloadType": "Configuration",
    "PayloadVersion": 1,
    "PayloadIdentifier": "com.example.portal.mdm.t123456",
    "PayloadUUID": "6E1A4C52-0B7B-4D3E-9C2F-3B8E7E1D9A11",
    "PayloadDisplayName": "Contoso work management",
    "PayloadOrganization": "Contoso",
    "PayloadContent": [
        {
            "PayloadType": "com.apple.security.scep",
            "PayloadVersion": 1,
            "PayloadIdentifier": "com.example.portal.mdm.t123456.scep",
            "PayloadUUID": "0D9B7E64-5C1E-4F4B-8E37-2C6A5E0F7B22",
            "PayloadContent": {
                "URL": "https://portal.example.com/scep/123456",
                "Challenge": "one-time",
                "Keysize": 2048,
                "Key Type": "RSA",
                "Key Usage": 5,
                "Subject": [[["O", "123456"]], [["CN", "ue-1"]]],
            },
        },
        {
            "PayloadType": "com.apple.mdm",
            "PayloadVersion": 1,
            "PayloadIdentifier": "com.example.portal.mdm.t123456.mdm",
            "PayloadUUID": "A3C1F2D4-7E8B-4C69-B0A1-9F2E3D4C5B66",
            "ServerURL": "https://portal.example.com/mdm/connect",
            "CheckInURL": "https://portal.example.com/mdm/checkin",
            "Topic": "com.apple.mgmt.External.11111111-2222-3333-4444-555555555555",
            "IdentityCertificateUUID": "0D9B7E64-5C1E-4F4B-8E37-2C6A5E0F7B22",
            "SignMessage": True,
            "CheckOutWhenRemoved": True,
            "EnrollmentMode": "BYOD",
            "AssignedManagedAppleID": "alice@contoso.appleid.com",
        },
    ],
}


def variant(change):
    profile = copy.deepcopy(PROFILE)
    change(profile, profile["PayloadContent"][0], profile["PayloadContent"][1])
    return schema.validate_profile(profile, user_enrollment=True)


def test_facts_table_is_self_contained():
    facts = schema.facts()
    assert facts["source"]["commit"].startswith("b6202ca2")
    assert "com.apple.mdm" in facts["profiles"] and "EraseDevice" in facts["commands"]
    assert "Authenticate" in facts["checkin"]
    text = schema.FACTS_PATH.read_text()
    assert '"description"' not in text and '"content"' not in text  # facts, no prose
    assert facts["profiles"]["com.apple.wifi.managed"]["title"] == "Wi-Fi"


@pytest.mark.skipif(
    not (SCHEMA_DIR / "COMMIT.txt").exists(),
    reason="Apple's schema checkout (../shared or APPLE_SCHEMA_DIR) is absent",
)
def test_regenerating_reproduces_the_committed_table():
    import importlib.util

    spec = importlib.util.spec_from_file_location("build", ROOT / "scripts/build_schema_facts.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    assert build.render(build.build(SCHEMA_DIR)) == schema.FACTS_PATH.read_text()


def test_adue_profile_is_valid():
    assert schema.validate_profile(PROFILE, user_enrollment=True) == []


@pytest.mark.parametrize(
    "change,expected",
    [
        (lambda p, s, m: m.update(ServerURL="http://portal.example.com/mdm"), "ServerURL"),
        (lambda p, s, m: m.update(CheckInURL="portal.example.com/checkin"), "CheckInURL"),
        (lambda p, s, m: m.pop("Topic"), "Topic: required"),
        (lambda p, s, m: m.update(AccessRights=8191), "AccessRights: must be absent"),
        (lambda p, s, m: m.update(ManagedAppleID="alice@x"), "ManagedAppleID: not supported"),
        (lambda p, s, m: m.pop("AssignedManagedAppleID"), "AssignedManagedAppleID"),
        (lambda p, s, m: m.update(EnrollmentMode="SOMETHING"), "EnrollmentMode"),
        (lambda p, s, m: p.update(PayloadRemovalDisallowed=True), "forbidden in user enrollment"),
        (lambda p, s, m: s["PayloadContent"].update(Keysize="2048"), "Keysize: expected integer"),
        (lambda p, s, m: s["PayloadContent"].update(Subject=[[["CN"]]]), "at least 2"),
        (lambda p, s, m: m.update(Bogus=1), "Bogus: unknown key"),
        (
            lambda p, s, m: p["PayloadContent"].append(
                {
                    "PayloadType": "com.apple.vpn.managed",
                    "PayloadVersion": 1,
                    "PayloadIdentifier": "x",
                    "PayloadUUID": "x",
                }
            ),
            "forbidden in user enrollment",
        ),
        (
            lambda p, s, m: p["PayloadContent"].append({"PayloadType": "com.example.nope"}),
            "unknown payload type",
        ),
    ],
    ids=[
        "http-server-url",
        "checkin-url",
        "no-topic",
        "access-rights",
        "managed-apple-id",
        "no-assigned-id",
        "bad-mode",
        "removal-disallowed",
        "keysize-string",
        "subject-pair",
        "unknown-key",
        "device-vpn",
        "unknown-payload",
    ],
)
def test_invalid_profiles_name_the_problem(change, expected):
    errors = variant(change)
    assert any(expected in e for e in errors), errors


def test_checkin_vectors_validate():
    files = [p for p in VECTORS.rglob("*.plist") if "MessageType" in plistlib.loads(p.read_bytes())]
    assert len(files) >= 5
    for path in files:
        assert schema.validate_checkin(plistlib.loads(path.read_bytes())) == [], path.name


def test_checkin_errors():
    assert schema.validate_checkin({"MessageType": "Nope"}) == ["unknown MessageType 'Nope'"]
    errors = schema.validate_checkin(
        {
            "MessageType": "TokenUpdate",
            "EnrollmentID": "x",
            "Topic": "t",
            "Token": "not bytes",
            "PushMagic": "m",
        }
    )
    assert any("Token: expected data" in e for e in errors)


def test_command_envelope_vector_validates():
    envelope = plistlib.loads(
        (VECTORS / "micromdm/mdm/mdm/testdata/InstallProfile.plist").read_bytes()
    )
    assert schema.validate_command(envelope["Command"]) == []


def test_commands_forbidden_in_user_enrollment():
    assert schema.validate_command({"RequestType": "EraseDevice"}) == [
        "EraseDevice: forbidden in user enrollment"
    ]
    assert schema.command_allowed_in_user_enrollment("DeviceInformation")
    assert schema.command_allowed_in_user_enrollment("InstallApplication")
    assert not schema.command_allowed_in_user_enrollment("EraseDevice")
    assert not schema.command_allowed_in_user_enrollment("Restrictions")
    assert schema.validate_command({"RequestType": "InstallApplication", "iTunesStoreID": "1"})


def test_errors_keep_apples_key_path_and_translate_their_text():
    from django.utils import translation

    from enrollment import configuration_profiles

    wifi = {"SSID_STR": 5, "HIDDEN_NETWORK": True, "AutoJoin": True, "Bogus": 1}
    with translation.override("de"):
        errors = configuration_profiles.check_payload("com.apple.wifi.managed", wifi)
        missing = schema.validate_payload(
            {"PayloadType": "com.apple.wifi.managed", "PayloadVersion": 1}, label="wifi"
        )
    assert "com.apple.wifi.managed.SSID_STR: erwartet string, erhalten int" in errors
    assert "com.apple.wifi.managed.Bogus: unbekannter Schlüssel" in errors
    assert "wifi.PayloadIdentifier: Pflichtschlüssel fehlt" in missing
    with translation.override("en"):
        assert "wifi.PayloadIdentifier: required key missing" in schema.validate_payload(
            {"PayloadType": "com.apple.wifi.managed", "PayloadVersion": 1}, label="wifi"
        )
