"""In Chromium: a configuration profile assigned by tag on the device tile's configuration form;
the device (simulator) connects and the tile's profile table shows it installed."""

import pytest

from tests import factories
from tests.conftest import browser_login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIFI = {"SSID_STR": "Office", "EncryptionType": "WPA2", "Password": "wifi-secret-1"}


@pytest.mark.parametrize("language,width", [("en", 1280), ("de", 390)])
def test_profile_by_tag_shows_installed(
    browser_page, admin_user, make_device, ready_tenant, language, width
):
    from mdm.models import Device, DeviceProfile
    from users.models import Tag

    tag = Tag.objects.create(tenant=ready_tenant, name="Office")
    wifi = factories.configuration_profile(
        ready_tenant, payloads=[("com.apple.wifi.managed", WIFI)], tags=[tag], name="Office Wi-Fi"
    )
    sim = make_device(accept_terms=True)
    sim.enroll()
    device = Device.objects.get()
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "domain": "localhost", "path": "/"}]
    )
    browser_login(page, admin_user.username)
    page.goto(f"/mobile-security/devices/{device.pk}/")
    page.fill("#id_name", "Reception iPhone")
    page.fill("#id_tag_names", "Office")
    page.click("#device-settings button[type=submit]")
    page.wait_for_selector("#device-name")
    row = page.locator(f"#device-profiles tr[data-identifier='{wifi.identifier}']")
    assert row.get_attribute("data-state") == "waiting"
    # The device wakes (the simulator stands in for the push) and installs the profile.
    sim.connect()
    assert DeviceProfile.objects.get(device=device, profile=wifi).state == "installed"
    page.reload()
    assert row.get_attribute("data-state") == "installed"
    assert ("Installed" if language == "en" else "Installiert") in row.inner_text()
    assert wifi.identifier in sim.installed_profiles
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    assert page.evaluate("window.__csp") == []
    screenshot(page, f"mdm-device-profiles-{language}-{width}")
    page.goto("/mobile-security/devices/")
    assert "Reception iPhone" in page.inner_text("#device-tiles")
    screenshot(page, f"mdm-device-tiles-configured-{language}-{width}")
