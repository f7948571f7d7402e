"""Shared fixtures: tenants and accounts, clients, the live HTTPS server, the browser, services.

Area-specific fixtures live in ``tests/<area>/conftest.py``.
"""

import os
import shutil
from pathlib import Path

import pytest

from tests import hypothesis_profile  # noqa: F401  (registers and loads the profile)

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# around it are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
TEST_PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _eager_celery():
    """Tasks run in the test process; the service test starts a real worker instead."""
    from portal.celery import app

    app.conf.task_always_eager = True
    yield


@pytest.fixture(autouse=True)
def _default_language():
    """A test that asked for a page in German leaves German active in this thread: every test
    starts and ends in the default language, whatever ran before it."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _isolated_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def tenant(db):
    from users.models import Tenant

    return Tenant.objects.create(name="Contoso", number=123456)


@pytest.fixture
def other_tenant(db):
    from users.models import Tenant

    return Tenant.objects.create(name="Fabrikam", number=654321)


def make_account(username, *, role="tenant_admin", tenant=None):
    from users.models import Account

    account = Account.objects.create_user(
        username=username, password=TEST_PASSWORD, role=role, tenant=tenant
    )
    return account


@pytest.fixture
def admin_user(tenant):
    return make_account("alice-admin", tenant=tenant)


@pytest.fixture
def other_admin_user(other_tenant):
    return make_account("bob-admin", tenant=other_tenant)


@pytest.fixture
def readonly_user(tenant):
    return make_account("rita-readonly", role="read_only", tenant=tenant)


@pytest.fixture
def reseller_user(tenant, other_tenant):
    account = make_account("rex-reseller", role="reseller")
    account.managed_tenants.add(tenant, other_tenant)
    return account


def _client_for(account):
    from django.test import Client

    client = Client()
    client.force_login(account)
    return client


@pytest.fixture
def admin_client(admin_user):
    return _client_for(admin_user)


@pytest.fixture
def other_admin_client(other_admin_user):
    return _client_for(other_admin_user)


@pytest.fixture
def readonly_client(readonly_user):
    return _client_for(readonly_user)


@pytest.fixture
def reseller_client(reseller_user):
    return _client_for(reseller_user)


def _api_client_for(account):
    from rest_framework.test import APIClient

    from users.models import ApiToken

    _, raw = ApiToken.issue(account, account.tenant, "tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def api_client(admin_user):
    return _api_client_for(admin_user)


@pytest.fixture
def other_api_client(other_admin_user):
    return _api_client_for(other_admin_user)


@pytest.fixture
def managed_user(tenant):
    from users.models import ManagedUser

    user = ManagedUser.objects.create(
        tenant=tenant,
        username="alice",
        first_name="Alice",
        last_name="Example",
        email="alice@contoso.example",
        managed_apple_id="alice@contoso.appleid.com",
    )
    user.set_enrollment_password(TEST_PASSWORD)
    user.save()
    return user


# --- live HTTPS server --------------------------------------------------------------------


@pytest.fixture(scope="session")
def local_tls(tmp_path_factory):
    from portal.tls import ensure_local_tls

    return ensure_local_tls(tmp_path_factory.mktemp("tls"), ("localhost",))


class LiveServer:
    def __init__(self, url, ca_path):
        self.url, self.ca_path = url, str(ca_path)

    def __str__(self):
        return self.url


@pytest.fixture
def live_tls_server(transactional_db, local_tls, settings):
    """The whole portal over HTTPS in a thread, sharing the test database."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.wsgi import get_wsgi_application
    from django.db import connections

    from portal.tls import serve_in_thread

    # In-memory SQLite must be shared between this thread and the server's threads.
    shared = []
    for conn in connections.all():
        if conn.vendor == "sqlite" and conn.is_in_memory_db():
            conn.inc_thread_sharing()
            shared.append(conn)
    server, thread = serve_in_thread(StaticFilesHandler(get_wsgi_application()), local_tls)
    url = f"https://localhost:{server.server_address[1]}"
    settings.PORTAL_BASE_URL = url
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
    settings.CSRF_TRUSTED_ORIGINS = [url]
    yield LiveServer(url, local_tls.ca_path)
    server.shutdown()
    server.server_close()
    thread.join(5)
    for conn in shared:
        conn.dec_thread_sharing()


# --- browser ------------------------------------------------------------------------------


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="session")
def _browser():
    if CHROMIUM is None:
        pytest.skip("No Chromium found (apt-get install chromium); browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-quic",
                "--no-first-run",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_page(_browser, live_tls_server):
    context = _browser.new_context(
        ignore_https_errors=True,
        base_url=live_tls_server.url,
        permissions=["clipboard-read", "clipboard-write"],
    )
    # Every page reports Content-Security-Policy violations (see ``csp_violations``).
    context.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation', (e) =>"
        " window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    page = context.new_page()
    page.csp_console = []
    page.on(
        "console",
        lambda m: "Content Security Policy" in m.text and page.csp_console.append(m.text),
    )
    page.set_default_timeout(15000)
    yield page
    context.close()


def csp_violations(page) -> list[str]:
    """CSP violations of the current page (events) and of all pages so far (console)."""
    return [*page.evaluate("window.__csp || []"), *page.csp_console]


def browser_login(page, username, password=TEST_PASSWORD):
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


# --- real services ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url():
    from django.conf import settings

    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set; the Redis/Celery service tests need a real Redis")
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at REDIS_URL does not answer: {exc}")
    return settings.REDIS_URL


@pytest.fixture
def postgres(db):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("DATABASE_URL does not point at PostgreSQL; this test needs the real server")
    return connection
