"""In Chromium: a new configuration profile gets a Wi-Fi and a mail payload through its tabs;
the Wi-Fi password is never shown again and the built profile validates."""

import pytest

from tests.conftest import browser_login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language,width", [("en", 1280), ("de", 390)])
def test_wifi_and_mail_profile_in_the_tabs(browser_page, admin_user, tenant, language, width):
    from apple import schema
    from enrollment import configuration_profiles as cp
    from enrollment.models import Profile

    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "domain": "localhost", "path": "/"}]
    )
    browser_login(page, admin_user.username)
    page.goto("/mobile-security/profiles/configuration/new/")
    page.fill("#id_name", "Office")
    page.fill("#id_tag_names", "Staff")
    page.click("button.btn-primary")
    page.wait_for_selector("nav.tabs")
    page.click("nav.tabs a[href$='tab=wifi']")
    page.select_option("#add-payload", "com.apple.wifi.managed")
    page.click("#add-payload ~ button")
    page.fill("#id_new-SSID_STR", "Contoso")
    page.select_option("#id_new-EncryptionType", "WPA2")
    page.fill("#id_new-Password", "browser-wifi-secret")
    page.click("#new-payload button.btn-primary")
    page.wait_for_selector("section[id^=payload-]")
    assert "browser-wifi-secret" not in page.content()
    page.click("nav.tabs a[href$='tab=accounts']")
    page.select_option("#add-payload", "com.apple.mail.managed")
    page.click("#add-payload ~ button")
    page.select_option("#id_new-EmailAccountType", "EmailTypeIMAP")
    page.fill("#id_new-EmailAddress", "$EMAIL")
    page.fill("#id_new-IncomingMailServerHostName", "imap.example.com")
    page.select_option("#id_new-IncomingMailServerAuthentication", "EmailAuthPassword")
    page.fill("#id_new-OutgoingMailServerHostName", "smtp.example.com")
    page.select_option("#id_new-OutgoingMailServerAuthentication", "EmailAuthPassword")
    page.click("#new-payload button.btn-primary")
    page.wait_for_selector("section[id^=payload-]")
    tabs = page.inner_text("nav.tabs")
    assert "(1)" in tabs
    screenshot(page, f"enrollment-configuration-profile-{language}-{width}")
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
        " > window.innerWidth + 1).slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id)"
    )
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, wide
    profile = Profile.objects.get(kind=Profile.Kind.CONFIGURATION)
    assert [p.payload_type for p in profile.payloads.all()] == [
        "com.apple.wifi.managed",
        "com.apple.mail.managed",
    ]
    built = cp.build_configuration_profile(profile, {"EMAIL": "alice@example.com"})
    assert schema.validate_profile(built, user_enrollment=True) == []
    assert built["PayloadContent"][1]["EmailAddress"] == "alice@example.com"
