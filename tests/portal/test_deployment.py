"""Deployment hardening: check --deploy clean in a production-like environment, HSTS and CSP
headers, no Python version in the embedded server's Server header, owner-only files in var/."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import httpx
from django.test import Client

from enrollment.scep.client import tls_verify
from users import files

ROOT = Path(__file__).parents[2]


def production_env(var_dir, **extra):
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(var_dir),
        "PORTAL_VAR_DIR": str(var_dir),
        "SECRET_KEY": secrets.token_urlsafe(60),
        "PORTAL_BASE_URL": "https://mdm.example.com",
        **extra,
    }


def manage(env, *args):
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_and_var_files_are_private(tmp_path):
    var = tmp_path / "var"
    env = production_env(var)
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    result = manage(
        env,
        "shell",
        "-c",
        "from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_INCLUDE_SUBDOMAINS)",
    )
    assert result.stdout.splitlines()[-1].split() == ["31536000", "True", "True"]
    assert var.stat().st_mode & 0o777 == 0o700
    for name in ("portal.sqlite3", "field_encryption_key"):
        assert (var / name).stat().st_mode & 0o777 == 0o600, name


def test_hsts_is_configurable(tmp_path):
    env = production_env(tmp_path / "var", SECURE_HSTS_SECONDS="600")
    result = manage(
        env, "shell", "-c", "from django.conf import settings; print(settings.SECURE_HSTS_SECONDS)"
    )
    assert result.stdout.splitlines()[-1] == "600"


def test_hsts_and_csp_headers_on_https_responses(db, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = Client().get("/login/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp


def test_embedded_server_does_not_name_python(live_tls_server):
    with httpx.Client(verify=tls_verify(live_tls_server.ca_path)) as http:
        response = http.get(live_tls_server.url + "/healthz")
    assert response.headers["server"] == "MDM-Portal"
    assert "python" not in response.headers["server"].lower()


def test_private_files(tmp_path):
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    loose.chmod(0o755)
    files.private_dir(loose)
    assert loose.stat().st_mode & 0o777 == 0o700
    files.write_private(loose / "key.pem", b"secret")
    assert (loose / "key.pem").stat().st_mode & 0o777 == 0o600
    old = loose / "db.sqlite3"
    old.write_bytes(b"")
    old.chmod(0o644)
    files.touch_private(old)
    assert old.stat().st_mode & 0o777 == 0o600


def test_generated_keys_are_private(tmp_path):
    from apple import x509util

    cert, key = x509util.local_identity(tmp_path / "signing", "s", x509util.name(cn="t"))
    assert Path(key).stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "signing").stat().st_mode & 0o777 == 0o700
