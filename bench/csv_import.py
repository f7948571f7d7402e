"""Import a generated CSV of N users (100,000 by default); print rows/s and peak memory.

    .venv/bin/python bench/csv_import.py [-n 100000]

Runs validation (the preview) and the import through the same functions the Celery tasks use,
on a fresh temporary SQLite database, or the database of DATABASE_URL (use a scratch one).
Peak memory is the Python heap peak (tracemalloc) and the process's maximum resident size.
"""

import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("PORTAL_VAR_DIR", tempfile.mkdtemp(prefix="bench-csv-"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    from users.imports import csv_import
    from users.models import ManagedUser, Tenant

    call_command("migrate", verbosity=0)
    tenant, _ = Tenant.objects.get_or_create(number=777777, defaults={"name": "Bench"})
    ManagedUser.objects.filter(tenant=tenant).delete()
    path = Path(os.environ["PORTAL_VAR_DIR"]) / "bench.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("username,firstname,lastname,email,managed_apple_id,comment,tags\r\n")
        for i in range(args.n):
            fh.write(
                f"user{i},First{i},Last{i},user{i}@contoso.example,"
                f'user{i}@contoso.appleid.com,"a, comment",{"sales" if i % 2 else "it"}\r\n'
            )
    size = path.stat().st_size

    started = time.perf_counter()
    preview = csv_import.validate(tenant, path)
    validated = time.perf_counter()
    outcome = csv_import.run(tenant, path, all_or_nothing=True)
    finished = time.perf_counter()
    # The heap peak of one more pass, measured apart: tracemalloc slows everything it watches.
    tracemalloc.start()
    csv_import.validate(tenant, path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"database: {engine}; file: {args.n} rows, {size / 1e6:.1f} MB")
    print(
        f"preview (validation): {preview.total / (validated - started):,.0f} rows/s "
        f"({validated - started:.1f} s)"
    )
    print(
        f"import (all or nothing, one transaction): "
        f"{outcome.created / (finished - validated):,.0f} rows/s ({finished - validated:.1f} s)"
    )
    print(
        f"peak Python heap of a pass: {peak / 1e6:.1f} MB; max resident set: "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    return 0 if outcome.created == args.n else 1


if __name__ == "__main__":
    sys.exit(main())
