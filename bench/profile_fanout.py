"""One configuration profile change reaching 10,000 devices: what it stores, and what a connect
then costs.

    .venv/bin/python bench/profile_fanout.py [--devices 10000] [--connects 200]

A fresh database (a temporary SQLite file, or DATABASE_URL when set: use a scratch database,
its tables are created with migrate) gets ``--devices`` enrolled devices of one tag and a Wi-Fi
profile assigned to that tag. The profile is then changed (a new revision): the figures are the
time to store the change, the rows it adds (commands, delivery rows: none until the devices
connect) and the devices it marks due. Then ``--connects`` devices connect as the command
endpoint hands them their report (``mdm.connect.handle``, no HTTP): ``Idle`` (reconciled: the
signed InstallProfile goes out in the answer) and the ``Acknowledged`` answer; commands handed
out, SQL queries and time per connect. Pushes are counted, not sent. The last line sums it up.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("PORTAL_VAR_DIR", tempfile.mkdtemp(prefix="bench-profile-fanout-"))

WIFI = {"SSID_STR": "Office", "EncryptionType": "WPA2", "Password": "bench-wifi-secret"}


def _populate(tenant, tag, count: int, batch: int = 5000) -> None:
    from django.utils import timezone

    from enrollment.models import EnrollmentSession
    from mdm.models import Device
    from users.models import ManagedUser

    now = timezone.now()
    users = ManagedUser.objects.bulk_create(
        [
            ManagedUser(
                tenant=tenant,
                username=f"user{i}",
                email=f"user{i}@bench.example",
                managed_apple_id=f"user{i}@bench.appleid.com",
            )
            for i in range(max(1, count // 10))
        ],
        batch_size=batch,
    )
    for start in range(0, count, batch):
        indexes = range(start, min(count, start + batch))
        sessions = EnrollmentSession.objects.bulk_create(
            [
                EnrollmentSession(
                    tenant=tenant,
                    user=users[i % len(users)],
                    token_hash=EnrollmentSession.hash_token(f"bench-token-{i}"),
                    expires_at=now,
                    state=EnrollmentSession.State.CHECKED_IN,
                    enrollment_id=f"bench-{i}",
                )
                for i in indexes
            ],
            batch_size=batch,
        )
        devices = Device.objects.bulk_create(
            [
                Device(
                    tenant=tenant,
                    enrollment_id=f"bench-{i}",
                    identity_fingerprint=f"{i:064d}",
                    user=users[i % len(users)],
                    session=session,
                    status=Device.Status.ENROLLED,
                    push_token=b"\x01" * 32,
                    push_magic="magic",
                    terms_accepted=True,
                    config_due=False,
                    enrolled_at=now,
                    inventory_requested_at=now,
                )
                for i, session in zip(indexes, sessions, strict=True)
            ],
            batch_size=batch,
        )
        Device.tags.through.objects.bulk_create(
            [Device.tags.through(device_id=d.pk, tag_id=tag.pk) for d in devices],
            batch_size=batch,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--connects", type=int, default=200)
    args = parser.parse_args()

    import django

    django.setup()
    import logging
    import plistlib

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from apple.push_identity import install_demo_push_certificate
    from enrollment import configuration_profiles as cp
    from mdm import connect, tasks
    from mdm.device_auth import DeviceIdentity
    from mdm.models import Command, Device, DeviceProfile
    from users.models import Tag, Tenant

    logging.disable(logging.WARNING)
    call_command("migrate", verbosity=0)
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    pushed = []
    # Pushes are counted, not sent (no APNs here).
    tasks.push_devices.delay = lambda ids: pushed.append(len(ids))

    tenant = Tenant.objects.create(number=654321, name="Bench fan-out")
    install_demo_push_certificate(tenant)
    tag = Tag.objects.create(tenant=tenant, name="Office")
    started = time.perf_counter()
    _populate(tenant, tag, args.devices)
    print(
        f"database: {engine}; {args.devices} devices created in {time.perf_counter() - started:.1f} s"
    )
    profile = cp.create_profile(
        tenant, name="Office Wi-Fi", tags=[tag], payloads=[("com.apple.wifi.managed", WIFI)]
    )
    Device.objects.update(config_due=False)
    pushed.clear()  # the tag assignment above pushed them already

    before = (Command.objects.count(), DeviceProfile.objects.count())
    payload = profile.payloads.get()
    with CaptureQueriesContext(connection) as change_queries:
        started = time.perf_counter()
        with transaction.atomic():
            cp.set_payload_values(payload, {**WIFI, "SSID_STR": "Office 2"})
            payload.save()
            assert cp.record_change(profile)
        change_ms = (time.perf_counter() - started) * 1000
    added = (Command.objects.count() - before[0], DeviceProfile.objects.count() - before[1])
    marked = Device.objects.filter(config_due=True).count()
    print(
        f"change: {change_ms:.0f} ms, {len(change_queries)} queries; rows added: "
        f"{added[0]} commands, {added[1]} delivery rows; {marked} devices due; "
        f"pushes queued for {sum(pushed)} devices in {len(pushed)} tasks"
    )

    sample = list(
        Device.objects.filter(tenant=tenant)
        .select_related("session")
        .order_by("pk")[: args.connects]
    )
    idle_queries, answer_queries, times, handed = [], [], [], []
    for device in sample:
        identity = DeviceIdentity(
            tenant_id=device.tenant_id,
            certificate=None,
            fingerprint=device.identity_fingerprint,
            session_public_id=device.session.public_id,
            bearer_hash=device.session.token_hash,
        )
        report = {"Status": "Idle", "EnrollmentID": device.enrollment_id}
        count = 0
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as idle:
            reply = connect.handle(identity, report, plistlib.dumps(report))
        answer_count = None
        while reply.body:
            count += 1
            envelope = plistlib.loads(reply.body)
            report = {
                "Status": "Acknowledged",
                "EnrollmentID": device.enrollment_id,
                "CommandUUID": envelope["CommandUUID"],
            }
            with CaptureQueriesContext(connection) as captured:
                reply = connect.handle(identity, report, plistlib.dumps(report))
            answer_count = len(captured)
        times.append((time.perf_counter() - started) * 1000)
        handed.append(count)
        idle_queries.append(len(idle))
        if answer_count is not None:
            answer_queries.append(answer_count)
    rows = DeviceProfile.objects.count() - before[1]
    installed = DeviceProfile.objects.filter(state=DeviceProfile.State.INSTALLED).count()
    print(
        f"connects: {len(sample)}; commands handed out per connect {statistics.mean(handed):.1f}; "
        f"queries: Idle (reconcile + InstallProfile) {max(idle_queries)}, answer "
        f"{max(answer_queries)}; median {statistics.median(times):.1f} ms per connect "
        f"(render and sign included); delivery rows now {rows}, installed {installed}"
    )
    print(
        f"profile_fanout: {args.devices} devices, one change stored in {change_ms:.0f} ms "
        f"({added[0]} commands, {added[1]} rows added, {marked} devices marked); per connect "
        f"{statistics.mean(handed):.0f} command, {max(idle_queries)}+{max(answer_queries)} "
        f"queries, {statistics.median(times):.1f} ms; rows stored after {len(sample)} connects: "
        f"{rows} ({engine})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
