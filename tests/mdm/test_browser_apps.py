"""In Chromium, with the fake Apps and Books server and the simulated iPhone: create a tag, add an
app with it, give the tag to a user, see the licence per user and the installation per device;
then the user installs an available app on the self-service page. Screenshots in
tests/artifacts/."""

import base64
import time

import pytest

from tests import factories
from tests.conftest import TEST_PASSWORD, browser_login, csp_violations, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Apple's icon servers, answered locally: the icon shows only if the CSP lets it (a 1x1 PNG).
ICON = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGOwzlsKAAI2AU9Tsfq/AAAAAElFTkSuQmCC"
)

TEXT = {
    "en": {"assigned": "Assigned", "installed": "Installed", "install": "Install"},
    "de": {"assigned": "Zugewiesen", "installed": "Installiert", "install": "Installieren"},
}


def _wait_until(page, expression: str, timeout: float = 10.0) -> None:
    """Polls ``expression`` from here. Playwright's ``wait_for_function`` polls with the page's
    own ``eval``, which the portal's CSP (no 'unsafe-eval') refuses whenever the first check is
    not already true; ``page.evaluate`` goes through the browser's debugging protocol."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"not true within {timeout} s: {expression}"
        page.wait_for_timeout(50)


def _settle():
    """Ask Apple about the licence jobs (GET status), as the beat does."""
    from apple.models import VppToken
    from apple.vpp import events

    for row in VppToken.objects.all():
        events.refresh_events(row)


@pytest.mark.parametrize("language,width", [("en", 1280), ("de", 390)])
def test_app_from_tag_to_device_and_self_service(
    browser_page, admin_user, managed_user, make_device, fake_vpp, settings, language, width
):
    from enrollment import terms
    from mdm.models import App, AppInstallation, Device, Licence

    settings.MDM_APP_STATE_POLL_SECONDS = 0
    tenant = managed_user.tenant
    token = factories.vpp_token(tenant, fake=fake_vpp)
    factories.vpp_asset(token, "361304891", supported_platforms=["iOS"])
    keynote = factories.app(
        tenant,
        asset=factories.vpp_asset(token, "361304892"),
        name="Keynote",
        install_mode="available",
    )
    sim = make_device(product="iPhone17,1")
    sim.enroll()
    device = Device.objects.get()
    terms.accept(device.session, terms.current_terms(tenant))
    sim.connect()

    page = browser_page
    page.route(
        "https://*.mzstatic.com/**",
        lambda route: route.fulfill(status=200, content_type="image/png", body=ICON),
    )
    page.set_viewport_size({"width": width, "height": 900})
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "domain": "localhost", "path": "/"}]
    )
    browser_login(page, admin_user.username)

    # A tag
    page.goto("/mobile-security/tags/")
    page.click("#add-tag")
    page.fill("#id_name", "Sales")
    page.click("#tag-form button[type=submit]")
    page.wait_for_selector("#tag-name")
    assert "Sales" in page.inner_text("#tag-name")

    # Add app: search the synced assets, pick one, give it the tag
    page.goto("/mobile-security/apps/")
    page.click("#open-add-app")
    page.fill("#asset-search", "36130489")
    page.click("#asset-results button[data-adam-id='361304891']")
    page.wait_for_load_state("networkidle")
    assert "361304891" in page.inner_text("#asset-picked")
    page.fill("#add-app-dialog #id_tag_names", "sales")
    screenshot(page, f"apps-add-dialog-{language}-{width}")
    page.click("#add-app-submit")
    page.wait_for_selector("#app-facts")
    app = App.objects.get(adam_id="361304891")
    # Apple's metadata came with the add: its name, and its icon from Apple's image host.
    assert page.inner_text("#app-name") == "Contoso App 0"
    _wait_until(page, "document.querySelector('h1 img.app-icon').naturalWidth > 0")
    assert [t.name for t in app.tags.all()] == ["Sales"]

    # The tag to the user: the licence goes to their managed Apple ID
    page.goto(f"/users/{managed_user.pk}/")
    page.fill("#id_tag_names", "Sales")
    page.click("#user-form button[type=submit]")
    page.wait_for_selector(".messages")
    _settle()
    assert Licence.objects.get(app=app, user=managed_user).state == "assigned"

    # The device connects: InstallApplication, then its answers
    sim.connect()
    sim.connect()
    page.goto(f"/mobile-security/apps/{app.pk}/")
    licences = page.inner_text("#app-licences")
    assert managed_user.display_name in licences and TEXT[language]["assigned"] in licences
    installations = page.inner_text("#app-installations")
    assert AppInstallation.objects.get(app=app).state == "installed"
    assert TEXT[language]["installed"] in installations
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    screenshot(page, f"apps-detail-{language}-{width}")
    page.goto("/mobile-security/apps/")
    screenshot(page, f"apps-tiles-{language}-{width}")
    page.goto(f"/mobile-security/tags/{app.tags.get().pk}/")
    assert managed_user.display_name in page.inner_text("#tag-users")
    screenshot(page, f"apps-tag-{language}-{width}")

    # Self-service: the user installs the available app
    page.goto(f"/apps/t/{tenant.number}/login")
    page.fill("input[name=identifier]", managed_user.username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("#selfservice-login button[type=submit]")
    section = page.locator("section[data-adam-id='361304892']")
    section.locator("button[type=submit]").click()
    page.wait_for_selector("p.notice")
    assert "Keynote" in page.inner_text("p.notice")
    _settle()
    assert Licence.objects.get(app=keynote, user=managed_user).state == "assigned"
    sim.connect()
    sim.connect()
    page.reload()
    state = page.locator("section[data-adam-id='361304892'] .install-state").inner_text()
    assert state == TEXT[language]["installed"]
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    screenshot(page, f"apps-self-service-{language}-{width}")
    assert not csp_violations(page)
