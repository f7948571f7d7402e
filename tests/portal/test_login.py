"""Admin sign-in, sign-out and throttling."""

from django.urls import reverse

from tests.conftest import TEST_PASSWORD


def test_login_page_renders(client, db):
    response = client.get(reverse("portal:login"))
    assert response.status_code == 200
    assert b'name="username"' in response.content


def test_sections_need_sign_in(client, db):
    for name in ("portal:dashboard", "mobile_settings:index", "users:list", "mdm:devices"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("portal:login"))


def test_admin_signs_in_and_sees_empty_sections(client, admin_user):
    response = client.post(
        reverse("portal:login"), {"username": admin_user.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    dashboard = client.get(reverse("portal:dashboard"))
    assert dashboard.status_code == 200
    assert b"Contoso" in dashboard.content
    for name in (
        "mobile_settings:index",
        "enrollment:profiles",
        "mdm:apps",
        "mdm:devices",
        "users:list",
    ):
        assert client.get(reverse(name)).status_code == 200


def test_failed_sign_ins_are_throttled(client, admin_user, settings):
    url = reverse("portal:login")
    for _ in range(settings.LOGIN_THROTTLE_LIMIT):
        response = client.post(url, {"username": admin_user.username, "password": "wrong"})
        assert response.status_code == 200
    # Locked now, even with the right password.
    response = client.post(url, {"username": admin_user.username, "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content
    assert "_auth_user_id" not in client.session


def test_throttle_is_per_account(client, admin_user, other_admin_user, settings):
    url = reverse("portal:login")
    for _ in range(settings.LOGIN_THROTTLE_LIMIT):
        client.post(url, {"username": admin_user.username, "password": "wrong"})
    response = client.post(url, {"username": other_admin_user.username, "password": TEST_PASSWORD})
    assert response.status_code == 302


def test_logout_needs_post(admin_client):
    assert admin_client.get(reverse("portal:logout")).status_code == 405
    assert admin_client.post(reverse("portal:logout")).status_code == 302
    assert admin_client.get(reverse("portal:dashboard")).status_code == 302
