"""The portal in Debian's Chromium: sign in, switch tenant, screenshot the dashboard."""

import pytest

from tests.conftest import browser_login, csp_violations, screenshot

pytestmark = pytest.mark.browser


def test_reseller_signs_in_switches_tenant_and_sees_dashboard(
    browser_page, reseller_user, other_tenant
):
    page = browser_page
    browser_login(page, reseller_user.username)
    page.wait_for_selector("text=Getting started")
    assert "Contoso" in page.inner_text("h1")

    with page.expect_navigation():
        page.select_option("#tenant-select", str(other_tenant.pk))
    assert "Fabrikam" in page.inner_text("h1")
    assert page.is_visible("nav >> text=Devices")
    screenshot(page, "portal-dashboard-after-tenant-switch")
    assert csp_violations(page) == []


def test_german_navigation_in_browser(browser_page, admin_user):
    page = browser_page
    browser_login(page, admin_user.username)
    page.wait_for_selector("text=Getting started")
    with page.expect_navigation():
        page.select_option("select[name=language]", "de")
    assert page.is_visible("nav >> text=Geräte")
    screenshot(page, "portal-dashboard-de")
    assert csp_violations(page) == []


PAGES = [
    "/",
    "/users/",
    "/users/new/",
    "/users/import/csv/",
    "/users/import/entra/",
    "/mobile-security/devices/",
    "/mobile-security/profiles/",
    "/mobile-security/settings/",
    "/api-tokens/",
    "/audit/",
    "/api/docs/",
]


def test_no_page_violates_the_content_security_policy(browser_page, admin_user, live_tls_server):
    page = browser_page
    browser_login(page, admin_user.username)
    page.wait_for_selector("text=Getting started")
    response = page.goto("/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    for path in PAGES:
        response = page.goto(path)
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
        assert csp_violations(page) == [], path
