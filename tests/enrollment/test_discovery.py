"""Service discovery: which addresses get a BaseURL, and the 403 well-known.failed answers."""

import pytest

URL = "/.well-known/com.apple.remotemanagement"


def discover(client, identifier, family="iPhone"):
    return client.get(URL, {"user-identifier": identifier, "model-family": family})


@pytest.fixture
def host(settings):
    settings.PORTAL_BASE_URL = "https://portal.example.com"
    return "portal.example.com"


def test_known_address_gets_byod_server_with_tenant_in_path(client, address, host):
    response = discover(client, "Alice-123456@PORTAL.example.com")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "Servers": [
            {"Version": "mdm-byod", "BaseURL": "https://portal.example.com/enroll/t/123456"}
        ]
    }


def test_ipad_is_supported(client, address, host):
    assert discover(client, "alice-123456@portal.example.com", "iPad").status_code == 200


def test_unknown_user_of_ready_tenant_is_not_revealed(client, ready_tenant, host):
    # Deliberate: the login fails later; discovery does not tell which users exist.
    assert discover(client, "nobody-123456@portal.example.com").status_code == 200


def _assert_refused(response):
    assert response.status_code == 403
    assert response.json()["code"] == "com.apple.well-known.failed"


@pytest.mark.parametrize(
    "identifier,family",
    [
        ("alice-999999@portal.example.com", "iPhone"),  # unknown tenant
        ("alice-123456@elsewhere.example.com", "iPhone"),  # not our domain
        ("alice@portal.example.com", "iPhone"),  # not a local account address
        ("alice-123456@portal.example.com", "Mac"),  # unsupported model family
        ("alice-123456@portal.example.com", ""),
    ],
)
def test_refusals(client, address, host, identifier, family):
    _assert_refused(discover(client, identifier, family))


def test_disabled_tenant_is_refused(client, address, host, ready_tenant):
    ready_tenant.is_active = False
    ready_tenant.save()
    _assert_refused(discover(client, "alice-123456@portal.example.com"))


def test_tenant_without_valid_push_certificate_is_refused(client, address, host, ready_tenant):
    from apple.models import PushCertificate

    PushCertificate.objects.filter(tenant=ready_tenant).update(not_after="2020-01-01T00:00Z")
    _assert_refused(discover(client, "alice-123456@portal.example.com"))
    PushCertificate.objects.filter(tenant=ready_tenant).delete()
    _assert_refused(discover(client, "alice-123456@portal.example.com"))


def test_tenant_without_default_profile_is_refused(client, address, host, ready_tenant):
    from enrollment.models import Profile

    Profile.objects.filter(tenant=ready_tenant).update(is_default=False)
    _assert_refused(discover(client, "alice-123456@portal.example.com"))
