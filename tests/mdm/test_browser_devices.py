"""In Chromium: device tile → Refresh inventory → the command history shows the acknowledged
result and the tile the model name; in English and German, at desktop and phone width."""

import pytest

from tests.conftest import browser_login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language,width", [("en", 1280), ("de", 390)])
def test_refresh_inventory_from_the_tile(browser_page, admin_user, make_device, language, width):
    from mdm.models import Command, Device

    sim = make_device(product="iPhone17,1")
    sim.enroll()
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "domain": "localhost", "path": "/"}]
    )
    browser_login(page, admin_user.username)
    page.goto("/mobile-security/devices/")
    tile = page.locator(".device-tile").first
    assert "iPhone 16 Pro" in tile.inner_text()
    tile.click()
    page.wait_for_selector("#refresh-inventory")
    page.click("#refresh-inventory")
    page.wait_for_selector(".messages, .message, [role=status], .banner", timeout=5000)
    # The device wakes (the simulator stands in for the push) and answers.
    sim.product = "iPhone17,1"
    sim.connect()
    page.reload()
    history = page.inner_text("#command-history")
    acknowledged = "Acknowledged" if language == "en" else "Bestätigt"
    assert "DeviceInformation" in history and acknowledged in history
    assert (
        Command.objects.filter(status="acknowledged", request_type="DeviceInformation").count() == 2
    )
    page.locator("#command-history tr:has-text('DeviceInformation') details summary").first.click()
    assert "Simulated iPhone" in page.inner_text("#command-history")
    assert "iPhone 16 Pro" in page.inner_text("#device-model")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    screenshot(page, f"mdm-device-detail-{language}-{width}")
    page.goto("/mobile-security/devices/")
    screenshot(page, f"mdm-device-tiles-{language}-{width}")
    assert Device.objects.get().display_model == "iPhone 16 Pro"
