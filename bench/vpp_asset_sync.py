"""Sync N Apps and Books assets (10,000 by default) from the local fake service; print figures.

    .venv/bin/python bench/vpp_asset_sync.py [-n 10000] [--page-size 100]

Runs ``apple.vpp.assets.sync_assets`` (what the Celery task runs) twice against the loopback
fake of tests/apple/fakes.py: a first sync that creates every asset, then a second one that
updates them all. Uses a fresh temporary SQLite database, or DATABASE_URL (use a scratch one).
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("PORTAL_VAR_DIR", tempfile.mkdtemp(prefix="bench-vpp-"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args()

    import logging

    import django

    django.setup()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from apple.models import VppAsset, VppToken
    from apple.vpp import assets
    from tests.apple.fakes import FakeVpp, token_file
    from users.models import Tenant

    call_command("migrate", verbosity=0)
    fake = FakeVpp().start()
    settings.VPP_BASE_URL = fake.url
    data = token_file()
    fake.accept(data)
    fake.page_size = args.page_size
    fake.assets = [
        {
            "adamId": str(100000000 + i),
            "pricingParam": "STDQ" if i % 3 else "PLUS",
            "productType": "App" if i % 5 else "Book",
            "assignedCount": i % 7,
            "availableCount": 50 - i % 7,
            "retiredCount": 0,
            "totalCount": 50,
            "deviceAssignable": True,
            "revocable": True,
            "supportedPlatforms": ["iOS"],
        }
        for i in range(args.n)
    ]
    tenant, _ = Tenant.objects.get_or_create(number=777778, defaults={"name": "Bench VPP"})
    VppToken.objects.filter(tenant=tenant).delete()
    row = VppToken.objects.create(
        tenant=tenant,
        token=data.decode(),
        token_sha256=os.urandom(16).hex(),
        org_name="Bench",
        expires_at=timezone.now() + timezone.timedelta(days=300),
    )
    try:
        for label in ("first sync (creates)", "second sync (updates)"):
            fake.requests.clear()
            queries = Counter()
            with connection.execute_wrapper(queries):
                started = time.perf_counter()
                count = assets.sync_assets(row)
                seconds = time.perf_counter() - started
            for asset in fake.assets:
                asset["assignedCount"] += 1  # so the second sync has changes to write
            print(
                f"{label}: {count} assets, {len(fake.requests)} pages, {seconds:.2f} s, "
                f"{count / seconds:,.0f} assets/s, {len(queries)} SQL queries"
            )
        assert VppAsset.objects.filter(token=row).count() == args.n
    finally:
        fake.stop()
    return 0


class Counter:
    """A database execute wrapper that counts statements."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)

    def __len__(self):
        return self.count


if __name__ == "__main__":
    sys.exit(main())
