"""The settings page in Chromium: upload a push certificate and a token, see the status."""

import pytest

from tests.apple import certs
from tests.apple.fakes import token_file
from tests.conftest import browser_login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_upload_push_certificate_and_token(browser_page, admin_user, fake_vpp, tmp_path):
    page = browser_page
    browser_login(page, admin_user.username)
    page.wait_for_selector("text=Getting started")
    assert page.is_visible("#push-banner")
    page.goto("/mobile-security/settings/")
    assert page.inner_text("#push-status") == "Missing"

    key = certs.new_key()
    bundle = tmp_path / "push.p12"
    bundle.write_bytes(certs.p12(certs.push_certificate(key.public_key()), key, "pw"))
    page.set_input_files("#id_certificate", str(bundle))
    page.fill("#id_password", "pw")
    page.fill("#id_apple_id", "it@contoso.example")
    with page.expect_navigation():
        page.click("#push-upload-form button[type=submit]")
    assert page.inner_text("#push-status") == "Valid"
    assert "com.apple.mgmt.External." in page.inner_text("#push-certificate")

    token = tmp_path / "Contoso.vpptoken"
    data = token_file()
    fake_vpp.accept(data)
    token.write_bytes(data)
    page.set_input_files("#id_token", str(token))
    with page.expect_navigation():
        page.click("#vpp-upload-form button[type=submit]")
    assert page.inner_text("#vpp-status") == "Valid"
    assert "Contoso Berlin" in page.inner_text("#vpp-token")
    screenshot(page, "settings-push-certificate-and-vpp-token")
