"""Apps and Books: cached service/config, waiting rules, asynchronous jobs and their status."""

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from apple.models import VppEvent, VppToken
from apple.tasks import check_vpp_tokens
from apple.vpp import events, service_config, tokens
from apple.vpp.client import VppClient, VppError
from tests.apple.fakes import token_file

URL = "/mobile-security/settings/vpp/upload/"


@pytest.fixture
def token(fake_vpp):
    data = token_file()
    fake_vpp.accept(data)
    return data


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.delete(service_config.CACHE_KEY)
    yield
    cache.delete(service_config.CACHE_KEY)


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


def _service_requests(fake):
    return [r for r in fake.requests if r[1] == "service/config"]


def test_service_config_is_read_once_and_cached(fake_vpp):
    assert service_config.limit("maxAssets") == 25  # Apple's value
    assert service_config.limit("maxUsers") == 100  # documented default, Apple sent none
    assert service_config.error_message(9622) == "Invalid token"
    assert service_config.error_message(1, "unknown") == "unknown"
    assert len(_service_requests(fake_vpp)) == 1
    service_config.service_config(refresh=True)
    assert len(_service_requests(fake_vpp)) == 2


def test_service_config_without_apple_uses_the_documented_limits(settings):
    settings.VPP_BASE_URL = "http://127.0.0.1:9/mdm/v2"  # discard port: nothing listens
    assert service_config.limit("maxUsers") == 100
    assert service_config.error_message(9622) == ""
    assert cache.get(service_config.CACHE_KEY) is None  # asked again next time


def test_batches_follow_the_limits(fake_vpp):
    users = [{"clientUserId": f"u-{i}"} for i in range(230)]
    assert [len(b) for b in service_config.batches(users, "maxUsers")] == [100, 100, 30]


def test_service_config_needs_no_token(fake_vpp):
    with VppClient("") as client:
        assert client.service_config()["limits"]["maxAssets"] == 25
    assert "Authorization" not in client.http.headers


def test_unavailable_without_retry_after_backs_off_with_jitter(fake_vpp, token):
    sleeps = Sleeps()
    fake_vpp.unavailable_next.add("client/config")
    with VppClient(token.decode(), sleep=sleeps, backoff=2.0) as client:
        assert client.client_config()["locationName"] == "Contoso Berlin"
    assert len(sleeps) == 1 and 1.0 <= sleeps[0] <= 2.0


def test_a_long_retry_after_is_not_waited_for_in_a_web_request(admin_client, fake_vpp, token):
    fake_vpp.throttle_next.add("client/config")
    fake_vpp.retry_after = "120"
    response = admin_client.post(URL, {"token": SimpleUploadedFile("t.vpptoken", token)})
    assert response.status_code == 400
    assert "try again later" in response.content.decode()
    assert not VppToken.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_background_work_waits_as_long_as_apple_asks(fake_vpp, token):
    sleeps = Sleeps()
    fake_vpp.throttle_next.add("assets")
    fake_vpp.retry_after = "120"
    with VppClient(token.decode(), sleep=sleeps) as client:
        assert len(list(client.iter_assets())) == 5
    assert sleeps == [120.0]


def test_claim_names_this_portal(admin_client, fake_vpp, token, settings):
    settings.PORTAL_BASE_URL = "https://mdm.example.com"
    admin_client.post(URL, {"token": SimpleUploadedFile("t.vpptoken", token)})
    row = VppToken.objects.get()
    assert fake_vpp.mdm_info == {
        "id": str(row.mdm_id),
        "name": tokens.PRODUCT_NAME,
        "metadata": "mdm.example.com",
    }
    claim = [b for m, p, b in fake_vpp.requests if (m, p) == ("POST", "client/config")][0]
    assert (
        claim["notificationUrl"] == f"https://mdm.example.com/apple/vpp/notifications/{row.mdm_id}"
    )


@pytest.mark.django_db(transaction=True)
def test_pending_jobs_are_asked_for_until_finished(admin_client, fake_vpp, token):
    admin_client.post(URL, {"token": SimpleUploadedFile("t.vpptoken", token)})
    row = VppToken.objects.get()
    fake_vpp.events_finish_at_once = False
    with VppClient(row.token) as client:
        client.create_users([{"clientUserId": "u-1", "managedAppleId": "u1@example.com"}])
        associate = client.associate(
            [{"adamId": "361304891", "pricingParam": "STDQ"}], client_user_ids=["u-1"]
        )
        revoke = client.revoke(client_user_ids=["u-2"])
    first = events.record_event(row, associate, "ASSOCIATE")
    events.record_event(row, revoke, "REVOKE")
    assert events.record_event(row, {}, "ASSOCIATE") is None  # Apple accepted nothing
    VppEvent.objects.create(tenant=row.tenant, token=row, event_id="lost-at-apple")

    assert events.refresh_events(row) == 1  # only the unknown one is settled (FAILED)
    assert VppEvent.objects.get(event_id="lost-at-apple").status == "FAILED"
    first.refresh_from_db()
    assert first.status == "PENDING"

    fake_vpp.finish_events()
    assert check_vpp_tokens() == 1  # the periodic task asks again
    first.refresh_from_db()
    assert first.status == "COMPLETE" and first.event_type == "ASSOCIATE"
    assert first.num_completed == first.num_requested == 1
    assert not VppEvent.objects.filter(status="PENDING").exists()


@pytest.mark.django_db(transaction=True)
def test_failed_jobs_keep_apples_reasons(admin_client, fake_vpp, token):
    admin_client.post(URL, {"token": SimpleUploadedFile("t.vpptoken", token)})
    row = VppToken.objects.get()
    fake_vpp.events_finish_at_once = False
    with VppClient(row.token) as client:
        event = events.record_event(
            row, client.create_users([{"clientUserId": "u-1"}]), "USER_CREATE"
        )
    failure = {"errorNumber": 9609, "errorMessage": "Registered user not found"}
    fake_vpp.finish_events([failure])
    events.refresh_events(row)
    event.refresh_from_db()
    assert event.status == "FAILED" and event.failures == [failure]


def test_client_gives_up_after_its_retries(fake_vpp, token):
    sleeps = Sleeps()
    client = VppClient(token.decode(), base_url="http://127.0.0.1:9/mdm/v2", sleep=sleeps)
    with client, pytest.raises(VppError, match="unreachable"):
        client.client_config()
    assert len(sleeps) == 4
