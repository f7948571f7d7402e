"""The sign-in throttles cannot be walked around: spelling variants of one account share a
counter, one address is capped across usernames, and concurrent failures are all counted."""

import re
import threading

import httpx
import pytest
from django.urls import reverse

from enrollment.scep.client import tls_verify
from portal import forms as login_forms
from tests.conftest import TEST_PASSWORD
from users.throttle import Throttle

LOGIN = "/login/"


def admin_post(client, username, password="wrong", address="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.parametrize(
    "variant",
    ["  alice-admin", "alice-admin\t", "\u3000alice-admin", "ａｌｉｃｅ-admin", "alice\uff0dadmin"],
    ids=["leading-space", "trailing-tab", "ideographic-space", "full-width", "full-width-hyphen"],
)
def test_admin_variants_share_the_canonical_counter(client, admin_user, settings, variant):
    for _ in range(settings.LOGIN_THROTTLE_LIMIT):
        admin_post(client, variant)
    # The canonical name is locked, even with the right password ...
    assert admin_post(client, "alice-admin", TEST_PASSWORD).status_code == 429
    # ... and so is the variant, which would otherwise log in through the form's normalisation.
    assert admin_post(client, variant, TEST_PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_admin_canonical_failures_lock_the_variants(client, admin_user, settings):
    for _ in range(settings.LOGIN_THROTTLE_LIMIT):
        admin_post(client, "alice-admin")
    for variant in ("  alice-admin ", "ａｌｉｃｅ-admin"):
        assert admin_post(client, variant, TEST_PASSWORD).status_code == 429


def test_admin_sign_in_is_capped_per_address(client, admin_user, monkeypatch):
    monkeypatch.setattr(login_forms.login_address_throttle, "limit", 8)
    for n in range(8):
        assert admin_post(client, f"sprayed-{n}").status_code == 200
    assert admin_post(client, "alice-admin", TEST_PASSWORD).status_code == 429
    # Another address is not affected.
    response = admin_post(client, "alice-admin", TEST_PASSWORD, address="10.0.0.2")
    assert response.status_code == 302


def test_concurrent_failures_are_all_counted_on_the_cache_in_use(db):
    throttle = Throttle("test-race", limit=1000, window=60)
    barrier = threading.Barrier(40)

    def fail():
        barrier.wait()
        throttle.failure("victim")

    threads = [threading.Thread(target=fail) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert throttle.count("victim") == 40


def _csrf(http, path):
    page = http.get(path)
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]


def test_40_concurrent_wrong_passwords_over_http_are_all_counted(
    live_tls_server, monkeypatch, settings
):
    """Every request whose password was checked is counted; none slips past uncounted.
    (An unknown user and a fast hasher keep 40 checks quick on a small machine.)"""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    monkeypatch.setattr(login_forms.login_throttle, "limit", 1000)
    monkeypatch.setattr(login_forms.login_address_throttle, "limit", 1000)
    url = live_tls_server.url
    with httpx.Client(base_url=url, verify=tls_verify(live_tls_server.ca_path)) as http:
        token = _csrf(http, reverse("portal:login"))
        cookies = dict(http.cookies)
    barrier = threading.Barrier(40)
    statuses, errors = [], []

    def attempt():
        try:
            _attempt()
        except Exception as exc:
            errors.append(repr(exc))

    def _attempt():
        with httpx.Client(
            base_url=url, verify=tls_verify(live_tls_server.ca_path), cookies=cookies, timeout=60
        ) as http:
            barrier.wait()
            response = http.post(
                reverse("portal:login"),
                data={"username": "nobody-here", "password": "wrong", "csrfmiddlewaretoken": token},
                headers={"Referer": url + "/login/"},
            )
            statuses.append(response.status_code)

    threads = [threading.Thread(target=attempt) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert statuses == [200] * 40
    assert login_forms.login_throttle.count("nobody-here", "127.0.0.1") == 40
    assert login_forms.login_address_throttle.count("127.0.0.1") == 40
