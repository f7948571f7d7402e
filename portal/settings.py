"""Settings of the MDM portal.

This is the one module that reads the environment. Everything unset falls back to the
embedded default: SQLite in ``var/``, Celery tasks run eagerly in process, mail to the
console, HTTPS on https://localhost:8443 with a local CA made on first run.
"""

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from cryptography.fernet import Fernet
from django.utils.translation import gettext_lazy as _

from users.files import private_dir, touch_private, write_private

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = private_dir(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))


def _env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def _persistent_secret(name: str, make) -> str:
    """A secret generated once for the embedded default and kept in ``var/``."""
    path = VAR_DIR / name
    if not path.exists():
        write_private(path, make().encode())
    return path.read_text().strip()


SECRET_KEY = os.environ.get("SECRET_KEY") or _persistent_secret(
    "secret_key", lambda: secrets.token_urlsafe(50)
)
DEBUG = _env_bool("DEBUG", False)

# The https address devices and users reach; Apple only accepts https:// for the MDM URLs.
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "https://localhost:8443").rstrip("/")
PORTAL_HOST = urlsplit(PORTAL_BASE_URL).hostname or "localhost"
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
ALLOWED_HOSTS += [PORTAL_HOST, "localhost", "127.0.0.1", "[::1]"]
_PORTAL_ORIGIN = "{0.scheme}://{0.netloc}".format(urlsplit(PORTAL_BASE_URL))
CSRF_TRUSTED_ORIGINS = [
    _PORTAL_ORIGIN,
    f"https://{PORTAL_HOST}",
    "https://localhost",
    "https://127.0.0.1",
]
# Production runs plain HTTP behind a TLS proxy that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies in front append to X-Forwarded-For (the client address for throttles).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
SESSION_COOKIE_SECURE = PORTAL_BASE_URL.startswith("https://")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# HTTPS only, remembered by browsers (HSTS), for a public https address. Not for localhost:
# HSTS there would stick to every local port of the developer's browser.
_PUBLIC_HTTPS = SESSION_COOKIE_SECURE and PORTAL_HOST not in {"localhost", "127.0.0.1", "::1"}
SECURE_HSTS_SECONDS = int(
    os.environ.get("SECURE_HSTS_SECONDS", "31536000" if _PUBLIC_HTTPS else "0")
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = _env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", _PUBLIC_HTTPS)
# Load balancers probe over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Preloading is a decision for the operator (SECURE_HSTS_PRELOAD), not a default.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Secrets at rest: comma-separated Fernet keys, newest first; older ones still decrypt.
FIELD_ENCRYPTION_KEYS = [
    k.strip()
    for k in (
        os.environ.get("FIELD_ENCRYPTION_KEY")
        or _persistent_secret("field_encryption_key", lambda: Fernet.generate_key().decode())
    ).split(",")
    if k.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "users",
    "users.imports",
    "apple",
    "enrollment",
    "enrollment.scep",
    "mdm",
    "portal",
    "portal.mobile_settings",
]

# Labels without colons, help text under fields, switches for yes/no (portal/forms.py).
FORM_RENDERER = "portal.forms.PortalFormRenderer"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "portal.csp.ContentSecurityPolicyMiddleware",
    # Check-in and connect leave the chain here (no session, user, CSRF, locale, messages).
    "portal.device_requests.DeviceRequestMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "users.middleware.TenantMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
AUTH_USER_MODEL = "users.Account"
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:dashboard"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
        },
    },
]

if not os.environ.get("DATABASE_URL"):
    touch_private(VAR_DIR / "portal.sqlite3")
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Threads of the embedded server and the eager Celery tasks share one file.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            # Writers take the lock when their transaction starts, so two requests never
            # deadlock upgrading read locks ("database is locked"); WAL lets readers go on.
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: a real broker when REDIS_URL is set, otherwise tasks run in the calling process.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "portal")
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "portal.tasks.heartbeat", "schedule": 60.0},
    "push-certificate-expiry-mails": {
        "task": "apple.tasks.warn_expiring_push_certificates",
        "schedule": 6 * 3600.0,
    },
    "vpp-token-check": {"task": "apple.tasks.check_vpp_tokens", "schedule": 6 * 3600.0},
    "entra-id-sync": {"task": "users.imports.tasks.sync_entra_tenants", "schedule": 3600.0},
    "mdm-push-sweep": {"task": "mdm.tasks.sweep_pushes", "schedule": 300.0},
    "mdm-licence-jobs": {"task": "mdm.tasks.follow_licence_jobs", "schedule": 180.0},
    "mdm-licences": {"task": "mdm.tasks.reconcile_all_licences", "schedule": 3600.0},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("de", _("German"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Mail: console by default; set EMAIL_HOST to send through SMTP.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", f"MDM Portal <noreply@{PORTAL_HOST}>")

# Sign-in throttling: failures per (account name, client address) in a sliding window.
LOGIN_THROTTLE_LIMIT = int(os.environ.get("LOGIN_THROTTLE_LIMIT", "5"))
LOGIN_THROTTLE_WINDOW = int(os.environ.get("LOGIN_THROTTLE_WINDOW", "900"))
LOGIN_THROTTLE_ADDRESS_LIMIT = int(os.environ.get("LOGIN_THROTTLE_ADDRESS_LIMIT", "30"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "users.api_auth.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["users.api_auth.TenantPermission"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # JSON only (uploads declare multipart themselves): form encodings cannot carry the types
    # the schema promises (a missing boolean would read as false).
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "MDM Portal API",
    "DESCRIPTION": "Tenant-scoped administration API of the MDM portal.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Uploads are binary in requests, not URIs (request and response components differ).
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.schema.document_errors",
    ],
    # Two models have a "kind" with different choices; each gets its own enum name.
    "ENUM_NAME_OVERRIDES": {
        "ProfileKindEnum": "enrollment.models.Profile.Kind",
        "InvitationKindEnum": "enrollment.models.Invitation.Kind",
        "DeviceStatusEnum": "mdm.models.Device.Status",
        "CommandStatusEnum": "mdm.models.Command.Status",
        "CommandOriginEnum": "mdm.models.Command.Origin",
        "PushStateEnum": "mdm.models.Device.PushState",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.server": {"level": "WARNING"}},
}

# --- apple (issue 3): push certificates, Apps and Books ---
MDM_VENDOR_CERT = os.environ.get("MDM_VENDOR_CERT", "")
MDM_VENDOR_KEY = os.environ.get("MDM_VENDOR_KEY", "")
VPP_BASE_URL = os.environ.get("VPP_BASE_URL", "https://vpp.itunes.apple.com/mdm/v2")
# Apple's content metadata lookup (names, icons, bundle ids of apps by adamId).
VPP_METADATA_BASE_URL = os.environ.get(
    "VPP_METADATA_BASE_URL",
    "https://uclient-api.itunes.apple.com/WebObjects/MZStorePlatform.woa/wa/lookup",
)
APNS_BASE_URL = os.environ.get("APNS_BASE_URL", "https://api.push.apple.com")
# APNs pushes: apns-expiration is now + this many seconds; streams in flight on the connection;
# CA bundle that verifies the APNs server (unset: the system's trust store).
APNS_EXPIRATION_SECONDS = int(os.environ.get("APNS_EXPIRATION_SECONDS", "86400"))
APNS_CONCURRENCY = int(os.environ.get("APNS_CONCURRENCY", "500"))
APNS_CA_FILE = os.environ.get("APNS_CA_FILE") or None

# --- users (issue 4): Microsoft Entra ID ---
GRAPH_BASE_URL = os.environ.get("GRAPH_BASE_URL", "https://graph.microsoft.com")
GRAPH_LOGIN_BASE_URL = os.environ.get("GRAPH_LOGIN_BASE_URL", "https://login.microsoftonline.com")

# --- enrollment (issue 5) ---
# Check the signer of the first enrollment POST against Apple's iPhone Device CA (off: the
# web login is what authenticates the user).
ENROLLMENT_VERIFY_DEVICE_SIGNATURE = _env_bool("ENROLLMENT_VERIFY_DEVICE_SIGNATURE", False)
# PEM bundle of Apple's device CA chain, needed when the check above is on.
ENROLLMENT_DEVICE_CA_FILE = os.environ.get("ENROLLMENT_DEVICE_CA_FILE", "")
# Certificate and key (PEM paths) that sign enrollment profiles; a publicly trusted one makes the
# device show the profile as verified. Unset: a local signing certificate is made in VAR_DIR.
PROFILE_SIGNING_CERT = os.environ.get("PROFILE_SIGNING_CERT", "")
PROFILE_SIGNING_KEY = os.environ.get("PROFILE_SIGNING_KEY", "")
# Header in which a TLS proxy forwards the device's client certificate (URL-escaped PEM).
MDM_CLIENT_CERT_HEADER = os.environ.get("MDM_CLIENT_CERT_HEADER", "")

# --- mdm (issue 9): command queue, inventory, pushes, metrics ---
# How often a device's inventory is refreshed (seconds; 0 = only on demand and after enrollment).
MDM_INVENTORY_INTERVAL_SECONDS = int(os.environ.get("MDM_INVENTORY_INTERVAL_SECONDS", "86400"))
# A command sent and not answered within this time is handed out again.
MDM_COMMAND_RESEND_SECONDS = int(os.environ.get("MDM_COMMAND_RESEND_SECONDS", "900"))
# last_seen_at is written at most this often per device (a poll then costs no write).
MDM_LAST_SEEN_GRANULARITY_SECONDS = int(os.environ.get("MDM_LAST_SEEN_GRANULARITY_SECONDS", "60"))
# A device with a push owed for this long, or pending commands and silent this long, is pushed
# again by the sweep; a device silent for MDM_SILENT_PUSH_SECONDS gets a wake-up push.
MDM_PUSH_SWEEP_AFTER_SECONDS = int(os.environ.get("MDM_PUSH_SWEEP_AFTER_SECONDS", "300"))
MDM_SILENT_PUSH_SECONDS = int(os.environ.get("MDM_SILENT_PUSH_SECONDS", "86400"))
# With Apple re-enrollment on, a device whose identity certificate expires within this many days
# gets a renewal (a new enrollment profile); with it off, its tile warns from then on.
MDM_IDENTITY_RENEWAL_DAYS = int(os.environ.get("MDM_IDENTITY_RENEWAL_DAYS", "60"))
# After a device starts installing an app, its state is asked for this much later (seconds).
MDM_APP_STATE_POLL_SECONDS = int(os.environ.get("MDM_APP_STATE_POLL_SECONDS", "60"))
# Devices per push task (one APNs connection carries a whole batch).
MDM_PUSH_BATCH = int(os.environ.get("MDM_PUSH_BATCH", "5000"))
# /metrics (Prometheus): a bearer token, and/or client addresses allowed without one.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_ALLOWED_IPS = [
    a.strip()
    for a in os.environ.get("METRICS_ALLOWED_IPS", "127.0.0.1,::1").split(",")
    if a.strip()
]
