"""In Chromium: Register new device (copy the address), Send invitation (mail captured),
and the device tile after the simulator enrolled. Screenshots go to tests/artifacts/."""

import pytest

from tests.conftest import browser_login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_register_invite_and_tile(
    browser_page, admin_user, ready_tenant, managed_user, make_device, mailoutbox
):
    page = browser_page
    browser_login(page, admin_user.username)
    page.wait_for_selector("text=Getting started")
    page.goto("/mobile-security/devices/")
    page.wait_for_selector("text=No devices yet")

    # Register new device: personal device, account-based user enrollment, pick the user.
    page.click("#open-register")
    assert page.is_checked("#personal-device")
    page.fill("#register-search", "ali")
    page.click("#register-results button")
    page.wait_for_selector("#register-address")
    address = page.inner_text("#register-address")
    assert address == "alice-123456@localhost"
    page.click("#copy-address")
    page.wait_for_selector("#copy-done", state="visible")
    assert page.evaluate("navigator.clipboard.readText()") == address
    screenshot(page, "enrollment-register-new-device")
    page.click("#register-dialog form[method=dialog] button")

    # Send invitation, then Invite more keeps the dialog open.
    page.click("#open-invite")
    page.fill("#invite-search", "ali")
    page.click("#invite-results button")
    page.click("#invite-more")
    page.wait_for_selector("#invite-status:has-text('Invitation sent')")
    assert page.is_visible("#invite-dialog")
    screenshot(page, "enrollment-send-invitation")
    assert mailoutbox and address in mailoutbox[-1].body

    # The simulator enrolls with the copied address; the tile appears.
    make_device(address=address).enroll()
    page.goto("/mobile-security/devices/")
    tile = page.wait_for_selector(".device-tile")
    assert "Terms not accepted" in tile.inner_text()
    assert "Alice Example" in tile.inner_text()
    screenshot(page, "enrollment-device-tile")
