"""The flows of issue 13 in Chromium, in English and German, at desktop and phone width (390 px).

Each asserts the text a person must see (an error, a confirmation, an explanation), that the
page is not wider than the screen, and leaves a screenshot in the test artifacts.
"""

import pytest

from tests.conftest import browser_login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VARIANTS = [
    pytest.param("en", 1280, id="en-desktop"),
    pytest.param("de", 1280, id="de-desktop"),
    pytest.param("en", 390, id="en-phone"),
    pytest.param("de", 390, id="de-phone"),
]

TEXT = {
    "en": {
        "nothing_saved": "Nothing was saved",
        "apps": "No Apps and Books token yet",
        "no_match": "No user with a managed Apple ID matches",
        "no_apple_id": "has no managed Apple ID",
        "fix": "Add the managed Apple ID",
        "no_push": "There is no valid Apple push certificate",
        "no_profile": "There is no default User registration profile",
        "invitation_sent": "Invitation sent to Alice Example",
        "demo": "Demo only: Apple refuses it",
        "signed_in": "Signed in",
        "in_process": "Background tasks run inside the web process",
        "unreachable": "Microsoft Entra ID could not be reached",
    },
    "de": {
        "nothing_saved": "Nichts wurde gespeichert",
        "apps": "Noch kein Apps-und-Bücher-Token",
        "no_match": "Kein Benutzer mit verwalteter Apple-ID passt zu",
        "no_apple_id": "keine verwaltete Apple-ID",
        "fix": "Verwaltete Apple-ID ergänzen",
        "no_push": "Es gibt kein gültiges Apple-Push-Zertifikat",
        "no_profile": "Es gibt kein Standardprofil für die Benutzerregistrierung",
        "invitation_sent": "Einladung an Alice Example",
        "demo": "Nur Demo: Apple lehnt es ab",
        "signed_in": "Angemeldet",
        "in_process": "Hintergrundaufgaben laufen im Webprozess",
        "unreachable": "Microsoft Entra ID konnte nicht erreicht werden",
    },
}


def _open(page, account, lang, width, live_tls_server):
    page.not_found = []
    page.on("response", lambda r: r.status == 404 and page.not_found.append(r.url))
    page.set_viewport_size({"width": width, "height": 900})
    page.context.add_cookies(
        [{"name": "django_language", "value": lang, "url": live_tls_server.url}]
    )
    browser_login(page, account.username)
    page.wait_for_selector(".steps")


def assert_fits(page):
    """No horizontal overflow: the document is not wider than the window (and no 404s)."""
    assert not page.not_found, page.not_found
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"page is {width} px wide in a {inner} px window"


def assert_language_select_readable(page, lang):
    select = page.locator("select[name=language]")
    box = select.bounding_box()
    assert box and box["width"] >= 40, box
    assert select.evaluate("s => s.options[s.selectedIndex].text") == lang.upper()


@pytest.mark.parametrize("lang,width", VARIANTS)
def test_users_page_fits(browser_page, live_tls_server, admin_user, managed_user, lang, width):
    from users.models import ManagedUser

    for i in range(5):
        ManagedUser.objects.create(
            tenant=managed_user.tenant,
            username=f"person.with.a.long.name{i}",
            email=f"person.with.a.long.name{i}@contoso.example",
            managed_apple_id=f"person.with.a.long.name{i}@contoso.appleid.com",
        )
    page = browser_page
    _open(page, admin_user, lang, width, live_tls_server)
    page.goto("/users/")
    page.wait_for_selector("#user-table")
    assert_fits(page)
    assert_language_select_readable(page, lang)
    screenshot(page, f"flows-users-{lang}-{width}")
    page.goto("/users/new/")
    page.wait_for_selector("#user-form")
    assert not page.locator("#user-form label", has_text=":").count()  # no colons
    assert page.is_visible("#id_tag_names") and not page.locator("#id_new_tags").count()
    assert_fits(page)
    screenshot(page, f"flows-add-user-{lang}-{width}")


@pytest.mark.parametrize("lang,width", VARIANTS)
def test_invalid_push_certificate_shows_its_error(
    browser_page, live_tls_server, admin_user, lang, width, tmp_path
):
    from enrollment.demo import ensure_demo_enrollment

    ensure_demo_enrollment(admin_user.tenant)
    page = browser_page
    _open(page, admin_user, lang, width, live_tls_server)
    page.goto("/mobile-security/settings/")
    # One status for the demo certificate: never a green "Valid".
    assert page.inner_text("#push-status") == TEXT[lang]["demo"]
    assert "ok" not in page.get_attribute("#push-status", "class")
    page.click("#push-renew summary")
    bad = tmp_path / "push.pem"
    bad.write_text("not a certificate")
    page.set_input_files("#id_certificate", str(bad))
    with page.expect_navigation():
        page.click("#push-upload-form button[type=submit]")
    assert TEXT[lang]["nothing_saved"] in page.inner_text("#form-error-banner")
    error = page.locator("#push-upload-form .errorlist").first
    assert error.is_visible() and error.inner_text().strip()
    assert_fits(page)
    screenshot(page, f"flows-push-error-{lang}-{width}")


@pytest.mark.parametrize("lang,width", VARIANTS)
def test_apps_page_says_the_token_is_missing(
    browser_page, live_tls_server, admin_user, lang, width
):
    page = browser_page
    _open(page, admin_user, lang, width, live_tls_server)
    page.goto("/mobile-security/apps/")
    assert page.inner_text("h1").strip() in ("Apps",)
    assert TEXT[lang]["apps"] in page.inner_text("#no-vpp-token")
    assert page.is_visible("#no-vpp-token a[href*='settings']")
    assert_fits(page)
    screenshot(page, f"flows-apps-{lang}-{width}")


@pytest.mark.parametrize("lang,width", VARIANTS)
def test_register_new_device_dialog(
    browser_page, live_tls_server, admin_user, managed_user, lang, width
):
    from users.models import ManagedUser

    ManagedUser.objects.create(tenant=managed_user.tenant, username="noid", email="n@x.example")
    ManagedUser.objects.create(
        tenant=managed_user.tenant,
        username="bert",
        first_name="Bert",
        email="b@x.example",
        managed_apple_id="bert@contoso.appleid.com",
    )
    page = browser_page
    _open(page, admin_user, lang, width, live_tls_server)
    page.goto("/mobile-security/devices/")
    page.click("#open-register")
    # Neither push certificate nor default profile: say so, with links.
    warnings = page.inner_text("#register-dialog")
    assert TEXT[lang]["no_push"] in warnings and TEXT[lang]["no_profile"] in warnings
    assert page.is_visible(".switch input[role=switch]")
    page.fill("#register-search", "zzz")
    page.wait_for_selector(f"#register-note >> text={TEXT[lang]['no_match']}")
    assert TEXT[lang]["no_match"] in page.inner_text("#register-note")
    page.fill("#register-search", "noid")
    page.wait_for_selector(f"#register-note >> text={TEXT[lang]['fix']}")
    assert TEXT[lang]["no_apple_id"] in page.inner_text("#register-note")
    assert "apple_id=missing" in page.get_attribute("#register-note a", "href")
    screenshot(page, f"flows-register-explained-{lang}-{width}")

    page.fill("#register-search", "ali")
    page.click("#register-results button")
    assert page.inner_text("#register-address").startswith("alice-123456@")
    page.click("#copy-address")
    page.wait_for_selector("#copy-done", state="visible")
    page.fill("#register-search", "bert")  # a new search forgets the old address
    assert not page.is_visible("#copy-done") and not page.is_visible("#register-result")
    page.click("#register-results button")
    assert page.inner_text("#register-address").startswith("bert-123456@")
    assert not page.is_visible("#copy-done")
    assert_fits(page)
    screenshot(page, f"flows-register-{lang}-{width}")


@pytest.mark.parametrize("lang,width", VARIANTS)
def test_send_invitation_confirms(
    browser_page, live_tls_server, admin_user, managed_user, lang, width
):
    page = browser_page
    _open(page, admin_user, lang, width, live_tls_server)
    page.goto("/mobile-security/devices/")
    page.click("#open-invite")
    page.fill("#invite-search", "ali")
    page.click("#invite-results button")
    with page.expect_navigation():
        page.click("#invite-send")
    message = page.inner_text(".messages")
    assert TEXT[lang]["invitation_sent"] in message and "alice@contoso.example" in message
    assert_fits(page)
    screenshot(page, f"flows-invitation-sent-{lang}-{width}")


@pytest.mark.parametrize("lang,width", VARIANTS)
def test_dashboard_and_audit_read_as_words(
    browser_page, live_tls_server, reseller_user, admin_user, settings, lang, width
):
    from users.audit import record

    # The embedded default (no Redis): tasks run in the web process, which is not a fault.
    settings.CELERY_TASK_ALWAYS_EAGER = True

    record(admin_user, "account.login", tenant=admin_user.tenant)
    page = browser_page
    _open(page, reseller_user, lang, width, live_tls_server)
    assert TEXT[lang]["in_process"] in page.inner_text("#workers-in-process")
    assert "account.login" not in page.inner_text("main")
    assert_fits(page)
    screenshot(page, f"flows-dashboard-{lang}-{width}")
    page.goto("/audit/")
    assert_language_select_readable(page, lang)
    assert TEXT[lang]["signed_in"] in page.inner_text("table")
    assert "account.login" not in page.inner_text("table")
    assert_fits(page)


@pytest.mark.parametrize("lang,width", VARIANTS)
def test_entra_network_error_reads_as_a_sentence(
    browser_page, live_tls_server, admin_user, settings, lang, width
):
    from users.imports.models import EntraConnection

    settings.GRAPH_BASE_URL = settings.GRAPH_LOGIN_BASE_URL = "http://127.0.0.1:9"  # refused
    EntraConnection.objects.create(
        tenant=admin_user.tenant, directory_id="contoso", client_id="app", client_secret="s"
    )
    page = browser_page
    _open(page, admin_user, lang, width, live_tls_server)
    page.goto("/users/import/entra/")
    with page.expect_navigation():
        page.click("#entra-test")
    assert TEXT[lang]["unreachable"] in page.inner_text("#entra-error")
    assert "Errno" not in page.inner_text("main")
    with page.expect_navigation():
        page.click("#entra-sync")
    assert TEXT[lang]["unreachable"] in page.inner_text("#entra-error")
    assert "Errno" not in page.inner_text("main")
    assert_fits(page)
    screenshot(page, f"flows-entra-unreachable-{lang}-{width}")


PAGES = [
    "/",
    "/mobile-security/settings/",
    "/mobile-security/profiles/",
    "/mobile-security/profiles/new/",
    "/mobile-security/apps/",
    "/mobile-security/devices/",
    "/mobile-security/devices/?view=list",
    "/mobile-security/devices/invitations/",
    "/users/",
    "/users/import/csv/",
    "/users/import/entra/",
    "/audit/",
    "/api-tokens/",
]


@pytest.mark.parametrize("lang", ["en", "de"])
def test_every_admin_page_fits_a_phone(
    browser_page, live_tls_server, admin_user, managed_user, lang
):
    from enrollment import invitations

    invitations.invite(admin_user.tenant, managed_user, account=admin_user)
    page = browser_page
    _open(page, admin_user, lang, 390, live_tls_server)
    for url in PAGES:
        page.goto(url)
        assert_fits(page)
        assert_language_select_readable(page, lang)
        name = url.strip("/").replace("/", "-").replace("?view=", "-") or "dashboard"
        screenshot(page, f"flows-phone-{name}-{lang}")


@pytest.mark.parametrize("lang", ["en", "de"])
def test_end_user_pages_fit_a_phone(browser_page, live_tls_server, managed_user, admin_user, lang):
    from enrollment import invitations

    invitation = invitations.invite(admin_user.tenant, managed_user, account=admin_user)
    page = browser_page
    page.not_found = []
    page.on("response", lambda r: r.status == 404 and page.not_found.append(r.url))
    page.set_viewport_size({"width": 390, "height": 844})
    page.context.add_cookies(
        [{"name": "django_language", "value": lang, "url": live_tls_server.url}]
    )
    page.goto(f"/invitation/{invitation.link_id}/")
    assert_fits(page)
    screenshot(page, f"flows-phone-invitation-page-{lang}")
    page.goto(f"/enroll/t/{admin_user.tenant.number}/login")
    assert_fits(page)
