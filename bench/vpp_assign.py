"""One app to N users (10,000 by default) by tag, then the tag removed from half of them;
prints the Apps and Books calls made against the minimum the batch limits allow.

    .venv/bin/python bench/vpp_assign.py [-n 10000]

Runs what production runs against the loopback fake of tests/apple/fakes.py: the tag change
goes through the signal receivers, the licence task (eager here) plans and sends
(``users/create`` per ``maxUsers``, ``assets/associate`` / ``assets/disassociate`` per
``maxClientUserIds``), the beat task follows the jobs (``GET status``), and every device is
reconciled as at its next connect (InstallApplication, then RemoveApplication). The licence
task runs a second time to show it sends nothing twice. Uses a fresh temporary SQLite
database, or DATABASE_URL (use a scratch one).
"""

import argparse
import math
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("PORTAL_VAR_DIR", tempfile.mkdtemp(prefix="bench-vpp-assign-"))

WRITES = ("users/create", "assets/associate", "assets/disassociate")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000)
    args = parser.parse_args()
    n, removed = args.n, args.n // 2

    import logging

    import django

    django.setup()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("celery").setLevel(logging.WARNING)
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    from apple.models import VppAsset, VppToken
    from apple.vpp.service_config import limit
    from mdm import desired, tasks
    from mdm.models import App, AppInstallation, Command, Device, Licence
    from tests.apple.fakes import FakeVpp, token_file
    from users.models import ManagedUser, Tag, Tenant

    call_command("migrate", verbosity=0)
    fake = FakeVpp().start()
    settings.VPP_BASE_URL, settings.VPP_METADATA_BASE_URL = fake.url, fake.metadata_url
    data = token_file()
    fake.accept(data)
    adam_id = "361304891"
    fake.assets[0].update(totalCount=n, availableCount=n, assignedCount=0)

    tenant, _ = Tenant.objects.get_or_create(number=777779, defaults={"name": "Bench assign"})
    for model in (App, Device, ManagedUser, Tag, VppToken):
        model.objects.filter(tenant=tenant).delete()
    row = VppToken.objects.create(
        tenant=tenant,
        token=data.decode(),
        token_sha256=os.urandom(16).hex(),
        org_name="Bench",
        expires_at=timezone.now() + timezone.timedelta(days=300),
    )
    asset = VppAsset.objects.create(
        tenant=tenant,
        token=row,
        adam_id=adam_id,
        pricing_param="STDQ",
        product_type="App",
        total_count=n,
        available_count=n,
    )
    users = ManagedUser.objects.bulk_create(
        [
            ManagedUser(
                tenant=tenant,
                username=f"user{i}",
                email=f"user{i}@example.com",
                managed_apple_id=f"user{i}@example.appleid.com",
            )
            for i in range(n)
        ],
        batch_size=1000,
    )
    users = list(ManagedUser.objects.filter(tenant=tenant).order_by("pk"))
    Device.objects.bulk_create(
        [
            Device(
                tenant=tenant,
                user=user,
                enrollment_id=str(uuid.uuid4()).upper(),
                identity_fingerprint=uuid.uuid4().hex,
                status=Device.Status.ENROLLED,
                terms_accepted=True,
                config_due=False,
            )
            for user in users
        ],
        batch_size=1000,
    )
    app = App.objects.create(tenant=tenant, adam_id=adam_id, asset=asset, bundle_id="com.b.app")
    tag = Tag.objects.create(tenant=tenant, name="Everyone")
    app.tags.add(tag)

    def reconcile_due() -> int:
        now, count = timezone.now(), 0
        for device in Device.objects.filter(tenant=tenant, config_due=True).iterator():
            desired.reconcile(device, now)
            count += 1
        return count

    try:
        started = time.perf_counter()
        tag.users.add(*users)  # receivers → licence task (plan + send)
        assigned_at = time.perf_counter()
        tasks.follow_licence_jobs()  # the beat: GET status for each job
        settled_at = time.perf_counter()
        assert Licence.objects.filter(app=app, state="assigned").count() == n
        reconciled = reconcile_due()  # each device at its next connect
        reconciled_at = time.perf_counter()
        installs = Command.objects.filter(request_type="InstallApplication").count()
        # The devices installed it.
        Command.objects.filter(request_type="InstallApplication").update(status="acknowledged")
        AppInstallation.objects.update(state="installed", identifier="com.b.app")

        tasks.assign_licences(tenant.pk)  # again: nothing to send
        second_run = sum(fake.calls(p) for p in WRITES)

        untag_started = time.perf_counter()
        tag.users.remove(*users[:removed])
        tasks.follow_licence_jobs()
        removed_reconciled = reconcile_due()
        finished = time.perf_counter()

        removals = Command.objects.filter(request_type="RemoveApplication").count()
        calls = {p: fake.calls(p) for p in WRITES}
        minimum = {
            "users/create": math.ceil(n / limit("maxUsers")),
            "assets/associate": math.ceil(n / limit("maxClientUserIds")),
            "assets/disassociate": math.ceil(removed / limit("maxClientUserIds")),
        }
        made, least = sum(calls.values()), sum(minimum.values())
        status_polls = fake.calls("status")
        commands = Command.objects.filter(device__tenant=tenant).count()
        for path in WRITES:
            print(f"{path}: {calls[path]} calls (minimum {minimum[path]})")
        print(
            f"GET status (job follow-up): {status_polls}; service/config: {fake.calls('service/config')}"
        )
        print(
            f"tag {n} users → licences sent: {assigned_at - started:.2f} s; jobs followed: "
            f"{settled_at - assigned_at:.2f} s; {reconciled} devices reconciled: "
            f"{reconciled_at - settled_at:.2f} s; untag {removed} (sent, followed, reconciled): "
            f"{finished - untag_started:.2f} s; whole flow {finished - started:.2f} s"
        )
        print(
            f"devices reconciled {reconciled} + {removed_reconciled}; commands stored {commands} "
            f"({installs} InstallApplication, {removals} RemoveApplication)"
        )
        assert fake.holders(adam_id).__len__() == n - removed
        assert second_run == calls["users/create"] + calls["assets/associate"]
        print(
            f"vpp_assign: users={n} untagged={removed} calls={made} minimum={least} "
            f"status_polls={status_polls} commands={commands} "
            f"duplicate_associations={fake.duplicate_associations} "
            f"seconds={finished - started:.1f}"
        )
        return 0 if made == least and fake.duplicate_associations == 0 else 1
    finally:
        fake.stop()


if __name__ == "__main__":
    sys.exit(main())
