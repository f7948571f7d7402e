"""Enroll N simulated iPhones against a live portal and print enrollments/s and SQL per check-in.

    .venv/bin/python bench/enroll_devices.py [-n 200] [--workers 8]

Starts the portal in this process over HTTPS (the embedded default's TLS) on a fresh database:
a temporary SQLite file, or the database of DATABASE_URL when set (its tables are created with
migrate; use a scratch database). Every device runs the whole flow over real HTTP: discovery,
signed machine info, web login (password hashing included), signed profile, SCEP with a fresh
2048-bit key, Authenticate, TokenUpdate, one command poll.
"""

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("PORTAL_VAR_DIR", tempfile.mkdtemp(prefix="bench-enroll-"))


class QueryCounter:
    """WSGI wrapper: counts the SQL statements each device request runs."""

    def __init__(self, app):
        self.app = app
        self.counts = defaultdict(list)
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        from django.db import connection

        statements = []
        key = environ.get("PATH_INFO", "")
        if key == "/mdm/checkin":
            import io
            import plistlib

            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(body)
            with contextlib.suppress(Exception):  # malformed bodies count under the path
                key = f"check-in {plistlib.loads(body).get('MessageType')}"

        def count(execute, sql, params, many, context):
            statements.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            result = list(self.app(environ, start_response))
        with self.lock:
            self.counts[key].append(len(statements))
        return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="devices to enroll (default 200)")
    parser.add_argument("--workers", type=int, default=8, help="devices enrolling at once")
    args = parser.parse_args()

    import django

    django.setup()
    import logging

    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    from enrollment.addresses import local_address
    from enrollment.demo import ensure_demo_enrollment
    from enrollment.simulator import SimulatedDevice
    from mdm.models import Device
    from portal.tls import ensure_local_tls, serve_in_thread
    from users.models import ManagedUser, Tenant

    logging.disable(logging.WARNING)  # per-request audit and task lines would drown the figures
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("migrate", verbosity=0)
    tenant, _ = Tenant.objects.get_or_create(number=123456, defaults={"name": "Bench"})
    ensure_demo_enrollment(tenant)
    password = "bench-password-2026"  # noqa: S105 - benchmark data
    hashed = make_password(password)
    users = []
    for i in range(max(1, args.n // 10)):
        user, _ = ManagedUser.objects.update_or_create(
            tenant=tenant,
            username=f"bench{i}",
            defaults={
                "managed_apple_id": f"bench{i}@bench.appleid.com",
                "email": f"bench{i}@example.com",
                "enrollment_password": hashed,
            },
        )
        users.append(user)

    tls = ensure_local_tls(Path(settings.VAR_DIR) / "tls", ("localhost",))
    counter = QueryCounter(get_wsgi_application())
    server, thread = serve_in_thread(counter, tls)
    url = f"https://localhost:{server.server_address[1]}"
    settings.PORTAL_BASE_URL = url
    addresses = [local_address(u) for u in users]

    def enroll(i):
        device = SimulatedDevice(
            addresses[i % len(addresses)], password, server=url, verify=str(tls.ca_path)
        )
        try:
            device.enroll()
        finally:
            device.close()

    before = Device.objects.count()
    started = time.perf_counter()
    with ThreadPoolExecutor(args.workers) as pool:
        list(pool.map(enroll, range(args.n)))
    elapsed = time.perf_counter() - started
    server.shutdown()
    enrolled = Device.objects.filter(status=Device.Status.ENROLLED).count() - before

    print(
        f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
        f"workers: {args.workers}"
    )
    print(
        f"enrolled {enrolled}/{args.n} devices in {elapsed:.1f} s "
        f"= {enrolled / elapsed:.1f} enrollments/s"
    )
    for label in ("check-in Authenticate", "check-in TokenUpdate", "/mdm/connect"):
        values = counter.counts.get(label, [])
        if values:
            print(
                f"SQL queries per {label}: median {statistics.median(values):.0f}, "
                f"max {max(values)}"
            )
    return 0 if enrolled == args.n else 1


if __name__ == "__main__":
    sys.exit(main())
