"""Apps and Books: the client against the fake service, token upload, sync, notifications."""

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from apple.models import VppAsset, VppEvent, VppToken
from apple.vpp import tokens
from apple.vpp.client import VppClient, VppError, VppTokenError
from tests.apple.fakes import token_file

URL = "/mobile-security/settings/"
ZENTRAL = Path(__file__).parents[1] / "fixtures/vectors/zentral/tests/mdm/testdata"


# Committed transactions, so the asset sync queued on commit runs as it does in production.
pytestmark = pytest.mark.django_db(transaction=True)


def upload(client, data: bytes, **fields):
    return client.post(
        URL + "vpp/upload/", {"token": SimpleUploadedFile("Contoso.vpptoken", data), **fields}
    )


@pytest.fixture
def token(fake_vpp):
    data = token_file()
    fake_vpp.accept(data)
    return data


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


def test_client_pages_honours_retry_after_and_reads_errors(fake_vpp, token):
    sleeps = Sleeps()
    fake_vpp.throttle_next.add("assets")
    with VppClient(token.decode(), sleep=sleeps) as client:
        assets = list(client.iter_assets())
        assert [a["adamId"] for a in assets] == [str(361304891 + i) for i in range(5)]
        assert sleeps == [1.0]  # Retry-After: 1
        assert client.service_config()["limits"]["maxAssets"] == 25
        assets_ = [{"adamId": "361304891", "pricingParam": "STDQ"}]
        event = client.associate(assets_, client_user_ids=["u-1"])
        status = client.event_status(event["eventId"])  # no such user yet: failed per user
        assert status["eventStatus"] == "FAILED"
        assert status["failures"][0]["errorNumber"] == 9609
        assert status["failures"][0]["errorInfo"] == {"clientUserIds": ["u-1"]}
        client.create_users([{"clientUserId": "u-1", "managedAppleId": "a@x.appleid.com"}])
        assert [u["clientUserId"] for u in client.iter_users()] == ["u-1"]
        assert list(client.iter_assignments()) == []
        event = client.associate(assets_, client_user_ids=["u-1"])
        assert client.event_status(event["eventId"])["eventStatus"] == "COMPLETE"
        assert [a["clientUserId"] for a in client.iter_assignments()] == ["u-1"]
        with pytest.raises(VppError) as error:
            client.event_status("unknown")  # HTTP 200 with errorNumber
        assert error.value.error_number == 9602
    with VppClient("not-the-token", sleep=sleeps) as client, pytest.raises(VppTokenError) as bad:
        client.client_config()
    assert bad.value.token_status == "invalid"


def test_upload_claims_the_location_stores_encrypted_and_syncs(
    admin_client, tenant, fake_vpp, token
):
    response = upload(admin_client, token)
    assert response.status_code == 302
    row = VppToken.objects.get(tenant=tenant)
    assert row.org_name == "Contoso Ltd" and row.location_name == "Contoso Berlin"
    assert fake_vpp.mdm_info["id"] == str(row.mdm_id)
    posted = [b for m, p, b in fake_vpp.requests if (m, p) == ("POST", "client/config")][0]
    assert posted["notificationUrl"].endswith(f"/apple/vpp/notifications/{row.mdm_id}")
    assert VppAsset.objects.filter(token=row).count() == 5
    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM apple_vpptoken")
        assert token.decode() not in str(cursor.fetchone()[0])
    page = admin_client.get(URL).content.decode()
    assert "Contoso Berlin" in page and "days left" in page


def test_another_mdm_needs_confirmation(admin_client, tenant, fake_vpp, token):
    fake_vpp.mdm_info = {"id": "29dd58b6-93fe-4791-a660-96d7339c9f54", "name": "Zentral"}
    response = upload(admin_client, token)
    assert response.status_code == 400
    assert "Zentral" in response.content.decode()
    assert 'name="confirm_takeover"' in response.content.decode()
    assert not VppToken.objects.exists()
    assert fake_vpp.mdm_info["name"] == "Zentral"  # not taken silently
    assert upload(admin_client, token, confirm_takeover="on").status_code == 302
    assert fake_vpp.mdm_info["name"] == "MDM Portal"


@pytest.mark.parametrize(
    "case,message",
    [
        ("garbage", "not an Apps and Books token"),
        ("expired", "expired"),
        ("revoked", "revoked"),
        ("unknown", "invalid"),
    ],
)
def test_bad_tokens_keep_the_stored_one(admin_client, tenant, fake_vpp, token, case, message):
    upload(admin_client, token)
    before = VppToken.objects.get()
    data = {
        "garbage": b"%PDF-1.7 not a token",
        "expired": token_file(exp="2020-01-01T00:00:00+0000"),
        "revoked": token,
        "unknown": token_file(),  # Apple does not know it
    }[case]
    if case == "revoked":
        fake_vpp.revoked = True
    response = upload(admin_client, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    after = VppToken.objects.get()
    assert (after.token, after.token_sha256, after.status) == (
        before.token,
        before.token_sha256,
        before.status,
    )


def test_the_same_token_in_two_tenants_is_refused(
    admin_client, other_admin_client, fake_vpp, token
):
    assert upload(admin_client, token).status_code == 302
    response = upload(other_admin_client, token)
    assert response.status_code == 400 and "another tenant" in response.content.decode()


def test_check_notices_revocation_and_another_mdm(admin_client, tenant, fake_vpp, token):
    upload(admin_client, token)
    row = VppToken.objects.get()
    fake_vpp.mdm_info = {"id": "someone-else", "name": "Other MDM"}
    assert tokens.check(row) == VppToken.Status.CLAIMED
    assert "Other MDM" in admin_client.get("/").content.decode()  # dashboard banner
    fake_vpp.revoked = True
    assert tokens.check(row) == VppToken.Status.REVOKED


def test_notifications(client, admin_client, tenant, fake_vpp, token):
    upload(admin_client, token)
    row = VppToken.objects.get()
    url = f"/apple/vpp/notifications/{row.mdm_id}"
    # The bearer token the portal gave Apple when it claimed the location.
    secret = [b for m, p, b in fake_vpp.requests if m == "POST"][0]["notificationAuthToken"]
    body = (ZENTRAL / "server_token_asset_count_notification.json").read_text()
    assert client.post(url, body, content_type="application/json").status_code == 401
    assert (
        client.post(
            url, body, content_type="application/json", HTTP_AUTHORIZATION="Bearer wrong"
        ).status_code
        == 401
    )
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    before = VppAsset.objects.get(adam_id="361304891").total_count
    assert client.post(url, body, content_type="application/json", **headers).status_code == 200
    assert client.post(url, body, content_type="application/json", **headers).status_code == 200
    assert VppAsset.objects.get(adam_id="361304891").total_count == before + 1  # once
    managed = (ZENTRAL / "server_token_associate_success_notification.json").read_text()
    assert client.post(url, managed, content_type="application/json", **headers).status_code == 200
    event = VppEvent.objects.get(event_id="1451d195-7818-44cc-844e-efd2557084c4")
    assert event.status == "COMPLETE" and event.event_type == "ASSOCIATE"
    test = (ZENTRAL / "server_token_test_notification.json").read_text()
    assert client.post(url, test, content_type="application/json", **headers).status_code == 200
    assert (
        client.post(url, "not json", content_type="application/json", **headers).status_code == 400
    )


def test_api(api_client, tenant, fake_vpp, token):
    assert api_client.get("/api/vpp-token/").json()["status"] == "missing"
    response = api_client.post(
        "/api/vpp-token/", {"token": SimpleUploadedFile("t.vpptoken", token)}, format="multipart"
    )
    assert response.status_code == 201, response.content
    assert api_client.get("/api/vpp-token/").json()["location"] == "Contoso Berlin"
    assets = api_client.get("/api/vpp-assets/").json()
    assert len(assets["results"] if isinstance(assets, dict) else assets) == 5
    bad = api_client.post(
        "/api/vpp-token/", {"token": SimpleUploadedFile("t.vpptoken", b"junk")}, format="multipart"
    )
    assert bad.status_code == 400 and json.dumps(bad.json())


def test_sync_now_button(admin_client, tenant, fake_vpp, token):
    upload(admin_client, token)
    fake_vpp.assets = fake_vpp.assets[:2]
    fake_vpp.assets[0] = fake_vpp.assets[0] | {
        "assignedCount": 7,
        "supportedPlatforms": ["iOS", "macOS"],
    }
    assert admin_client.post(URL + "vpp/sync/").status_code == 302
    assert VppAsset.objects.count() == 2  # the others are gone at Apple
    changed = VppAsset.objects.get(adam_id=fake_vpp.assets[0]["adamId"])
    assert changed.assigned_count == 7 and changed.supported_platforms == ["iOS", "macOS"]
    unchanged = VppAsset.objects.get(adam_id=fake_vpp.assets[1]["adamId"])
    assert unchanged.assigned_count == 1 and unchanged.tenant == tenant
