"""Configuration profiles: build, sign, revisions, secrets at rest."""

import pytest
from django.db import connection

from apple import cms, plist, schema
from enrollment import configuration_profiles as cp
from enrollment.models import Profile, ProfilePayload
from tests import factories

WIFI = {"SSID_STR": "Office", "EncryptionType": "WPA2", "Password": "wifi-secret-Ü1"}
VARIABLES = {"USERNAME": "alice", "EMAIL": "alice@example.com"}


@pytest.fixture
def wifi_profile(tenant):
    return factories.configuration_profile(
        tenant, payloads=[("com.apple.wifi.managed", WIFI)], description="Wi-Fi for $USERNAME"
    )


def test_built_profile_validates_and_has_stable_identifiers(wifi_profile):
    built = cp.build_configuration_profile(wifi_profile, VARIABLES)
    assert schema.validate_profile(built, user_enrollment=True) == []
    assert built["PayloadType"] == "Configuration"
    assert built["PayloadIdentifier"] == wifi_profile.identifier
    assert wifi_profile.identifier.endswith(f".mdm.t123456.profile.{wifi_profile.payload_uuid}")
    assert built["PayloadDescription"] == "Wi-Fi for alice"
    (wifi,) = built["PayloadContent"]
    assert wifi["Password"] == "wifi-secret-Ü1" and wifi["SSID_STR"] == "Office"
    payload = wifi_profile.payloads.get()
    assert wifi["PayloadUUID"] == str(payload.payload_uuid).upper()
    assert wifi["PayloadIdentifier"].startswith(wifi_profile.identifier + ".")


def test_signed_profile_is_cms_around_the_plist(wifi_profile):
    signed = cp.render_configuration_profile(wifi_profile, VARIABLES)
    verified = cms.verify(signed)
    assert plist.loads(verified.content)["PayloadIdentifier"] == wifi_profile.identifier


def test_revision_bumps_only_when_content_changes(wifi_profile):
    assert wifi_profile.revision == 1 and wifi_profile.content_hash
    first = (wifi_profile.identifier, wifi_profile.payload_uuid)
    assert cp.record_change(wifi_profile) is False
    payload = wifi_profile.payloads.get()
    cp.set_payload_values(payload, {**WIFI, "SSID_STR": "Office 2"})
    payload.save()
    assert cp.record_change(wifi_profile) is True
    wifi_profile.refresh_from_db()
    assert wifi_profile.revision == 2
    assert (wifi_profile.identifier, wifi_profile.payload_uuid) == first
    # A new secret is a change too, though it is not stored in clear.
    cp.set_payload_values(payload, {**WIFI, "SSID_STR": "Office 2", "Password": "other-1"})
    payload.save()
    assert cp.record_change(wifi_profile) is True


def test_secrets_are_kept_when_unchanged(wifi_profile):
    payload = wifi_profile.payloads.get()
    cp.set_payload_values(payload, {"SSID_STR": "Renamed"}, keep_secrets={"Password"})
    payload.save()
    assert cp.payload_values_of(ProfilePayload.objects.get(pk=payload.pk))["Password"] == (
        "wifi-secret-Ü1"
    )


def test_no_secret_in_clear_anywhere_in_the_database(tenant):
    secrets = {
        "com.apple.wifi.managed": {**WIFI, "Password": "CLEAR-wifi-7781"},
        "com.apple.mail.managed": {
            "EmailAccountType": "EmailTypeIMAP",
            "IncomingMailServerHostName": "imap.example.com",
            "IncomingMailServerAuthentication": "EmailAuthPassword",
            "OutgoingMailServerHostName": "smtp.example.com",
            "OutgoingMailServerAuthentication": "EmailAuthPassword",
            "IncomingPassword": "CLEAR-imap-7781",
            "OutgoingPassword": "CLEAR-smtp-7781",
        },
        "com.apple.security.pkcs12": {
            "PayloadContent": b"CLEAR-p12-7781",
            "Password": "CLEAR-p-7781",
        },
    }
    factories.configuration_profile(tenant, payloads=list(secrets.items()))
    dump = []
    with connection.cursor() as cursor:
        for model in (Profile, ProfilePayload):
            cursor.execute(f"SELECT * FROM {model._meta.db_table}")
            dump += [str(row) for row in cursor.fetchall()]
    text = "\n".join(dump)
    assert "ProfilePayload" not in text
    assert "CLEAR-" not in text and "Q0xFQVIt" not in text  # neither clear nor base64
    assert text.count("fernet:") == 3


def test_removal_options_build_valid_top_level_keys(tenant):
    import datetime as dt

    on_date = factories.configuration_profile(
        tenant,
        removal=Profile.Removal.ON_DATE,
        removal_date=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
    )
    after = factories.configuration_profile(
        tenant, removal=Profile.Removal.AFTER_DAYS, removal_after_days=7
    )
    assert cp.build_configuration_profile(on_date, {})["RemovalDate"] == dt.datetime(2030, 1, 1)
    assert cp.build_configuration_profile(after, {})["DurationUntilRemoval"] == 604800.0
