"""Device list at size: page time at a large tenant over the time at a small one.

    .venv/bin/python bench/device_list.py [--small 1000] [--large 100000] [--repeat 5]

Two tenants in one fresh database (a temporary SQLite file, or DATABASE_URL when set: use a
scratch database, its tables are created with migrate). Each request runs through Django's
full stack with a signed-in tenant admin (UI) or an API token (API); the figure is the median
of ``--repeat`` runs, with the number of SQL statements. Issue 13's target: every ratio
(first page, last page, search; UI and API) at most 1.5 with a constant number of queries.

Pages are keyset pages: the UI's last page is ``?page=last``, a cursor page follows the first
page's "Next" link; the API's last page and cursor page follow the ``last`` and ``next`` links
of its first page. The last line sums it up for the issue.
"""

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("PORTAL_VAR_DIR", tempfile.mkdtemp(prefix="bench-device-list-"))

TARGET = 1.5


def _populate(tenant, count: int, batch: int = 5000) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from mdm.models import Device
    from users.models import ManagedUser

    now = timezone.now()
    users = ManagedUser.objects.bulk_create(
        [
            ManagedUser(
                tenant=tenant,
                username=f"user{tenant.number}x{i}",
                last_name=f"Person{i}",
                email=f"user{i}@bench.example",
                managed_apple_id=f"user{i}@bench.appleid.com",
            )
            for i in range(max(1, count // 10))
        ],
        batch_size=batch,
    )
    for start in range(0, count, batch):
        Device.objects.bulk_create(
            [
                Device(
                    tenant=tenant,
                    enrollment_id=f"bench-{tenant.number}-{i}",
                    identity_fingerprint=f"{tenant.number:06d}{i:058d}",
                    user=users[i % len(users)],
                    status=Device.Status.ENROLLED,
                    product_name=("iPhone17,1", "iPhone16,2", "iPad14,1")[i % 3],
                    os_version="18.1",
                    push_token=b"\x01" * 32,
                    push_magic="magic",
                    enrolled_at=now - timedelta(days=30),
                    last_seen_at=now - timedelta(seconds=i * 7) if i % 50 else None,
                )
                for i in range(start, min(count, start + batch))
            ],
            batch_size=batch,
        )


def _measure(client, url: str, repeat: int, **headers) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url, **headers)  # warm caches (templates, terms)
    times, queries = [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url, **headers)
            times.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(captured)
    return statistics.median(times), queries


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    import logging

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from rest_framework.test import APIClient

    from users.models import Account, ApiToken, Role, Tenant

    logging.disable(logging.WARNING)
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    clients = {}
    for name, number, count in (("small", 100001, args.small), ("large", 100002, args.large)):
        tenant, created = Tenant.objects.get_or_create(number=number, defaults={"name": name})
        if created:
            started = time.perf_counter()
            _populate(tenant, count)
            print(f"{name}: {count} devices created in {time.perf_counter() - started:.1f} s")
        account, _ = Account.objects.get_or_create(
            username=f"bench-{name}", defaults={"role": Role.TENANT_ADMIN, "tenant": tenant}
        )
        ui = Client()
        ui.force_login(account)
        api = APIClient()
        _, raw = ApiToken.issue(account, tenant, "bench")
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        clients[name] = (ui, api, count)

    def ui_next(client):
        html = client.get("/mobile-security/devices/").content.decode()
        found = re.search(r'<a href="\?([^"]+)" rel="next">', html)
        return "/mobile-security/devices/?" + found.group(1).replace("&amp;", "&")

    def api_link(client, name, url="/api/devices/"):
        return client.get(url).json()[name]

    # (label, summary name or None, kind, url for a client)
    if connection.vendor == "postgresql":
        # What autovacuum does soon after a bulk load: without statistics the planner takes
        # the 100,000-row tenant for a few rows and sorts them all instead of walking the index.
        with connection.cursor() as cursor:
            for table in ("mdm_device", "users_manageduser"):
                cursor.execute(f'VACUUM ANALYZE "{table}"')

    cases = [
        ("UI tiles, first page", "ui first", "ui", lambda c: "/mobile-security/devices/"),
        ("UI list, first page", None, "ui", lambda c: "/mobile-security/devices/?view=list"),
        ("UI tiles, next page", None, "ui", ui_next),
        ("UI tiles, last page", "ui last", "ui", lambda c: "/mobile-security/devices/?page=last"),
        (
            "UI list, last page",
            None,
            "ui",
            lambda c: "/mobile-security/devices/?view=list&page=last",
        ),
        ("UI search", "ui search", "ui", lambda c: "/mobile-security/devices/?q=Person7"),
        (
            "UI search, last page",
            None,
            "ui",
            lambda c: "/mobile-security/devices/?q=Person7&page=last",
        ),
        ("API first page", "api first", "api", lambda c: "/api/devices/"),
        ("API next page", None, "api", lambda c: api_link(c, "next")),
        ("API last page", "api last", "api", lambda c: api_link(c, "last")),
        ("API search", "api search", "api", lambda c: "/api/devices/?q=Person7"),
        (
            "API search, last page",
            None,
            "api",
            lambda c: api_link(c, "last", "/api/devices/?q=Person7"),
        ),
    ]
    print(f"database: {engine}; {args.small} vs {args.large} devices; median of {args.repeat}")
    print(f"{'case':24} {'small ms':>9} {'large ms':>9} {'ratio':>6} {'queries':>9}  target")
    worst = 0.0
    summary = {}
    for label, short, kind, url in cases:
        row = {}
        for name, (ui, api, _count) in clients.items():
            client = ui if kind == "ui" else api
            row[name] = _measure(client, url(client), args.repeat)
        ratio = row["large"][0] / row["small"][0]
        worst = max(worst, ratio)
        queries = f"{row['small'][1]}/{row['large'][1]}"
        verdict = "ok" if ratio <= TARGET and row["small"][1] == row["large"][1] else "MISSED"
        if short:
            summary[short] = ratio
        print(
            f"{label:24} {row['small'][0] * 1000:9.1f} {row['large'][0] * 1000:9.1f} "
            f"{ratio:6.1f} {queries:>9}  {verdict}"
        )
    print(f"worst ratio {worst:.1f} (target <= {TARGET})")
    small, large = args.small, args.large

    def size(n):
        return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)

    print(
        "device_list: "
        + "; ".join(
            f"{side} "
            + ", ".join(
                f"{what} {summary[f'{side} {what}']:.1f}x" for what in ("first", "last", "search")
            )
            for side in ("ui", "api")
        )
        + f" ({engine}, {size(small)} vs {size(large)})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
