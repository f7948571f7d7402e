"""Seeded fuzz of the device-facing endpoints over HTTP: gunicorn on PostgreSQL, black box.

    .venv/bin/python bench/fuzz_devices.py [-n 20000] [--seed 12] [--database-url URL]

Makes a scratch database (default ``postgres://postgres@127.0.0.1:5432/bench_fuzz``, dropped and
created again), a tenant ready to enroll and one device enrolled by the simulator, starts
gunicorn on it, then sends ``-n`` generated and mutated requests, one at a time, to discovery,
the enrollment POST, SCEP (GET and POST), ``/mdm/checkin`` and ``/mdm/connect`` (bodies
mutated after signing, mutated and signed again with the device's key, foreign and broken
signatures). After every request a fingerprint of every table (row count and row versions) is
compared with the one before: a refused request (4xx, or a SCEP failure reply) must not change
it. Prints::

    fuzz: N requests, S server errors, W refused requests that wrote rows, worst latency X ms

The same seed gives the same requests. Exit status 1 if S or W is not 0.
"""

import argparse
import base64
import datetime as dt
import os
import plistlib
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
VECTOR = ROOT / "tests/fixtures/vectors/oreore-ios-mdm/spec/assets/enroll_body.der"
PASSWORD = "bench-fuzz-2026"  # noqa: S105 - benchmark data
WEIGHTS = {"discovery": 10, "enroll": 20, "scep": 20, "checkin": 25, "connect": 25}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


# --- generators ------------------------------------------------------------------------------


def mutate(rng: random.Random, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 3, 8))):
        if not data:
            data += rng.randbytes(rng.randint(1, 16))
            continue
        op = rng.randrange(7)
        pos = rng.randrange(len(data))
        if op == 0:
            data[pos] = rng.randrange(256)
        elif op == 1:
            data[pos:pos] = rng.randbytes(rng.randint(1, 32))
        elif op == 2:
            del data[pos : pos + rng.randint(1, 64)]
        elif op == 3:
            del data[pos:]
        elif op == 4:
            data[pos:pos] = data[pos : pos + rng.randint(1, 256)]
        elif op == 5:
            data += rng.randbytes(rng.randint(1, 64))
        else:
            data[pos] ^= 1 << rng.randrange(8)
    return bytes(data)


def random_text(rng: random.Random) -> str:
    pool = ["", "a", "\x00", "é", "\u202e", "😀", "%s", "' OR 1=1", "A" * 300, "<x>", "\ufeff"]
    return "".join(rng.choice(pool) for _ in range(rng.randint(0, 5)))


def random_value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(9 if depth < 4 else 6)
    if kind == 0:
        return random_text(rng)
    if kind == 1:
        return rng.choice((0, -1, 2**63 - 1, -(2**63), rng.randint(-1000, 1000)))
    if kind == 2:
        return rng.random() * rng.choice((1, 1e300, -1e-300))
    if kind == 3:
        return rng.choice((True, False))
    if kind == 4:
        return rng.randbytes(rng.randint(0, 40))
    if kind == 5:
        return dt.datetime(rng.randint(1, 9999), 1, 1)
    if kind == 6:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {random_text(rng) or "k": random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def mutate_message(rng: random.Random, message: dict) -> dict:
    message = dict(message)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(3)
        key = rng.choice([*message, "Status", "MessageType", "UDID", "CommandUUID", "Topic"])
        if op == 0:
            message[key] = random_value(rng)
        elif op == 1:
            message.pop(key, None)
        else:
            message[random_text(rng) or "x"] = random_value(rng)
    return message


def to_plist(rng: random.Random, value: dict) -> bytes:
    fmt = rng.choice((plistlib.FMT_XML, plistlib.FMT_BINARY))
    try:
        return plistlib.dumps(value, fmt=fmt, sort_keys=False)
    except (TypeError, ValueError, OverflowError):
        return plistlib.dumps({"MessageType": "Authenticate"}, fmt=fmt)


def odd_xml(rng: random.Random) -> bytes:
    choices = [
        b'<?xml version="1.0" encoding="x-unknown"?><plist><dict/></plist>',
        b"<plist><dict><key>Status</key><date>not a date</date></dict></plist>",
        b"<plist>" + b"<array>" * 5000 + b"</array>" * 5000 + b"</plist>",
        b'<!DOCTYPE a [<!ENTITY b "c">]><plist><dict><key>a</key><string>&b;</string></dict></plist>',
        b"<plist><dict><key>Status</key><array><string>Idle</string></array></dict></plist>",
        b"<plist><dict><key>MessageType</key><string>Authenticate\x00</string></dict></plist>",
        b"bplist00" + rng.randbytes(rng.randint(0, 200)),
        rng.randbytes(rng.randint(0, 400)),
    ]
    return rng.choice(choices)


# --- the run ---------------------------------------------------------------------------------


class Fingerprint:
    """Row count and a hash over the row versions (ctid, xmin) of every table: an insert,
    update or delete anywhere changes it."""

    def __init__(self, url: str):
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True)
        tables = [
            r[0]
            for r in self.conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        self.sql = " UNION ALL ".join(
            f"SELECT '{t}', count(*), coalesce(sum(hashtext(ctid::text || xmin::text)), 0) "
            f'FROM "{t}"'
            for t in tables
        )

    def take(self) -> tuple:
        return tuple(self.conn.execute(self.sql).fetchall())

    @staticmethod
    def changed(before: tuple, after: tuple) -> list[str]:
        return [a[0] for a, b in zip(before, after, strict=True) if a != b]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20000, help="requests (default 20000)")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/bench_fuzz")
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument(
        "--targets",
        default="discovery,enroll,scep,checkin,connect",
        help="comma-separated subset of discovery, enroll, scep, checkin, connect",
    )
    args = parser.parse_args()

    port = free_port()
    base = f"http://localhost:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "PORTAL_VAR_DIR": tempfile.mkdtemp(prefix="bench-fuzz-"),
        "PORTAL_BASE_URL": base,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "LOG_LEVEL": "CRITICAL",
    }
    env.pop("REDIS_URL", None)
    os.environ.update(env)
    recreate_database(args.database_url)

    import django

    django.setup()
    import logging

    logging.disable(logging.CRITICAL)
    import httpx
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from apple import cms, x509util
    from enrollment.addresses import local_address
    from enrollment.demo import ensure_demo_enrollment
    from enrollment.scep import client as scep_client
    from enrollment.scep import protocol, services
    from enrollment.simulator import SimulatedDevice
    from users.models import ManagedUser, Tenant

    call_command("migrate", verbosity=0)
    tenant = Tenant.objects.create(number=123456, name="Fuzz")
    ensure_demo_enrollment(tenant)
    user = ManagedUser.objects.create(
        tenant=tenant,
        username="fuzz",
        email="fuzz@example.com",
        managed_apple_id="fuzz@fuzz.appleid.com",
        enrollment_password=make_password(PASSWORD),
    )
    address = local_address(user)

    server_log = Path(env["PORTAL_VAR_DIR"]) / "gunicorn.log"
    server = subprocess.Popen(  # noqa: S603
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.gunicorn_workers),
            "--log-level",
            "critical",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=server_log.open("wb"),  # request warnings; tracebacks of server errors
    )
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        device = SimulatedDevice(address, PASSWORD, server=base, verify=False).enroll()
        checkin_url = device.mdm_payload.get("CheckInURL") or device.mdm_payload["ServerURL"]
        connect_url = device.mdm_payload["ServerURL"]
        scep_url = services.scep_url(tenant)
        enroll_url = device.base_url

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        csr = scep_client.build_csr(key, "ue-fuzz", "not-a-challenge")
        signer = scep_client._self_signed(key, csr.subject)
        pki_seed = protocol.sign_pki_message(
            protocol.encrypt_envelope(
                csr.public_bytes(serialization.Encoding.DER), services.ca_certificate(tenant)
            ),
            signer,
            key,
            {"message_type": "19", "transaction_id": "fuzz", "sender_nonce": b"n" * 16},
        )
        foreign_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        foreign = (x509util.self_signed(foreign_key, x509util.name(cn="x"), days=1), foreign_key)
        vector = VECTOR.read_bytes()
        machine_xml = plistlib.dumps({"PRODUCT": "iPhone17,2", "VERSION": "22C161"})
        checkin_seeds = [
            device.authenticate_message(),
            {
                "MessageType": "TokenUpdate",
                "Topic": device.mdm_payload["Topic"],
                "EnrollmentID": device.enrollment_id,
                "Token": device.push_token,
                "PushMagic": device.push_magic,
            },
            {"MessageType": "UserAuthenticate", "EnrollmentID": device.enrollment_id},
            {"MessageType": "DeclarativeManagement", "EnrollmentID": device.enrollment_id},
        ]
        connect_seeds = [
            {"Status": "Idle", "EnrollmentID": device.enrollment_id},
            {"Status": "Acknowledged", "CommandUUID": "x", "EnrollmentID": device.enrollment_id},
            {"Status": "Error", "ErrorChain": [], "EnrollmentID": device.enrollment_id},
        ]

        rng = random.Random(args.seed)
        targets = [t for t in args.targets.split(",") if t in WEIGHTS]
        http = httpx.Client(timeout=60)

        def signed(body: bytes, style: str) -> dict:
            headers = {"User-Agent": "MDM/1.0"}
            if style == "none":
                return headers
            cert, ckey = foreign if style == "foreign" else (device.identity, device.identity_key)
            signature = cms.sign(body, cert, ckey, detached=True)
            if style == "broken":
                signature = mutate(rng, signature)
            headers["Mdm-Signature"] = base64.b64encode(signature).decode()
            if rng.random() < 0.1:
                headers["Mdm-Signature"] = random_text(rng).encode("utf-8", "ignore").hex()
            return headers

        def device_request(url, seeds, content_type):
            style = rng.choice(("resign", "resign", "tamper", "broken", "foreign", "none"))
            if rng.random() < 0.15:
                body = odd_xml(rng)
            else:
                body = to_plist(rng, mutate_message(rng, rng.choice(seeds)))
            if style == "tamper":
                headers = signed(body, "device")
                body = mutate(rng, body)
            else:
                headers = signed(body, "device" if style == "resign" else style)
            headers["Content-Type"] = content_type
            if device.access_token and rng.random() < 0.8:
                headers["Authorization"] = f"Bearer {device.access_token}"
            return "PUT", url, {"content": body, "headers": headers}

        def request():
            target = rng.choices(targets, [WEIGHTS[t] for t in targets])[0]
            if target == "discovery":
                identifier = rng.choice(
                    (address, f"x-{rng.randint(0, 10**10)}@localhost", random_text(rng))
                )
                if rng.random() < 0.5:
                    identifier = mutate(rng, identifier.encode()).decode("utf-8", "replace")
                family = rng.choice(("iPhone", "iPad", "Mac", "", random_text(rng)))
                params = {"user-identifier": identifier, "model-family": family}
                return (
                    target,
                    "GET",
                    f"{base}/.well-known/com.apple.remotemanagement",
                    {"params": params},
                )
            if target == "enroll":
                seed = rng.choice((vector, machine_xml, odd_xml(rng)))
                headers = {"Content-Type": rng.choice(("application/pkcs7-signature", ""))}
                if rng.random() < 0.3:
                    # Any header value a client can send: visible ASCII.
                    token = "".join(c for c in random_text(rng) if " " < c < "\x7f")
                    headers["Authorization"] = f"Bearer {token or 'x'}"
                body = mutate(rng, seed) if rng.random() < 0.9 else seed
                return target, "POST", enroll_url, {"content": body, "headers": headers}
            if target == "scep":
                operation = rng.choice(("PKIOperation",) * 8 + ("GetCACaps", "GetCACert", "x"))
                message = mutate(rng, pki_seed)
                if rng.random() < 0.5:
                    b64 = base64.b64encode(message).decode()
                    if rng.random() < 0.2:
                        b64 = mutate(rng, b64.encode()).decode("latin-1")
                    params = {"operation": operation, "message": b64}
                    return target, "GET", scep_url, {"params": params}
                return (
                    target,
                    "POST",
                    scep_url,
                    {
                        "params": {"operation": operation},
                        "content": message,
                        "headers": {"Content-Type": "application/x-pki-message"},
                    },
                )
            if target == "checkin":
                return (
                    target,
                    *device_request(
                        checkin_url, checkin_seeds, "application/x-apple-aspen-mdm-checkin"
                    ),
                )
            return (
                target,
                *device_request(connect_url, connect_seeds, "application/x-apple-aspen-mdm"),
            )

        fingerprint = Fingerprint(args.database_url)
        before = fingerprint.take()
        statuses: Counter = Counter()
        errors: Counter = Counter()
        wrote: Counter = Counter()
        worst, worst_request = 0.0, None
        for _ in range(args.n):
            target, method, url, kwargs = request()
            started = time.perf_counter()
            try:
                response = http.request(method, url, **kwargs)
                status = response.status_code
            except httpx.HTTPError as exc:
                status = f"transport error {type(exc).__name__}"
            elapsed = (time.perf_counter() - started) * 1000
            if elapsed > worst:
                worst, worst_request = elapsed, (target, method, status)
            statuses[(target, status)] += 1
            if not isinstance(status, int) or status >= 500:
                errors[(target, status)] += 1
            after = fingerprint.take()
            refused = isinstance(status, int) and (
                status >= 400 or (target == "scep" and "PKIOperation" in str(kwargs))
            )
            if refused and after != before:
                for table in Fingerprint.changed(before, after):
                    wrote[(target, status, table)] += 1
                wrote[(target, status, "*")] += 1
            before = after
        server_errors = sum(errors.values())
        refused_writes = sum(v for k, v in wrote.items() if k[2] == "*")
        for (target, status), count in sorted(statuses.items(), key=str):
            print(f"  {target:9} {status}: {count}")
        for key_, count in sorted(errors.items(), key=str):
            print(f"  server error {key_}: {count}")
        for key_, count in sorted(wrote.items(), key=str):
            if key_[2] != "*":
                print(f"  refused request wrote {key_}: {count}")
        print(f"  worst latency: {worst_request}; server log: {server_log}")
        print(
            f"fuzz: {args.n} requests, {server_errors} server errors, "
            f"{refused_writes} refused requests that wrote rows, worst latency {worst:.0f} ms"
        )
        return 0 if server_errors == 0 and refused_writes == 0 else 1
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    sys.exit(main())
