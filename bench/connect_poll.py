"""Idle polls of enrolled devices on /mdm/connect against a bare Django view, on gunicorn + PostgreSQL.

    .venv/bin/python bench/connect_poll.py [--devices 8] [--duration 5] [--workers 2]

Recreates the scratch database ``--database`` (default mdm_bench_connect) on the PostgreSQL
server of ``--postgres`` and migrates it, starts gunicorn (sync workers, plain HTTP on
127.0.0.1; devices authenticate with ``Mdm-Signature`` and the bearer token, so no TLS is
needed) with ``bench/settings_bench.py``, which adds the bare views of ``bench/bare_urls.py``
(a constant plist through the whole middleware chain, the reference of the ratio, and the same
on the device path, which skips the browsers' middleware as /mdm/connect does), and enrolls ``--devices`` simulated iPhones against it over
HTTP. Then ``wrk`` (another process) replays pre-signed ``Idle`` PUTs of all devices, rotating,
against /mdm/connect and the same requests against the bare views. SQL queries per poll are
counted in this process: an idle poll, a poll that hands out a queued command, and an answer
that stores a result and hands out the next command. Installs nothing: without ``wrk`` it says
what to install and exits with 2.
"""

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGETS = {"idle": 2, "queued": 3, "answer": 5}
TARGET_RATIO = 0.33
CONNECT_TYPE = "application/x-apple-aspen-mdm"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recreate_database(server_url: str, name: str) -> None:
    import psycopg

    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"not a plain database name: {name!r}")
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")


def wait_until_up(url: str, process: subprocess.Popen, log_path: Path) -> None:
    import httpx

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited:\n{log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within 30 s")


def lua_string(value: str) -> str:
    level = 1
    while f"]{'=' * level}]" in value:
        level += 1
    eq = "=" * level
    return f"[{eq}[{value}]{eq}]"


def wrk_script(requests: list[tuple[dict, bytes]]) -> str:
    """Lua for wrk: each thread pre-formats every request and sends them in turn."""
    entries = []
    for headers, body in requests:
        pairs = ", ".join(f"[ {lua_string(k)} ] = {lua_string(v)}" for k, v in headers.items())
        entries.append(f"  {{ headers = {{ {pairs} }}, body = {lua_string(body.decode())} }},")
    return (
        "local specs = {\n" + "\n".join(entries) + "\n}\n"
        "local formatted = {}\n"
        "local counter = 0\n"
        "function init(args)\n"
        "  for i, spec in ipairs(specs) do\n"
        '    formatted[i] = wrk.format("PUT", nil, spec.headers, spec.body)\n'
        "  end\n"
        "  counter = math.random(#formatted)\n"
        "end\n"
        "function request()\n"
        "  counter = counter % #formatted + 1\n"
        "  return formatted[counter]\n"
        "end\n"
    )


def run_wrk(wrk: str, url: str, script: Path, args, duration: float) -> dict:
    command = [
        wrk,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{duration:g}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    done = re.search(r"(\d+) requests in ([\d.]+)(m?s)", output)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    seconds = float(done.group(2)) / (1000 if done.group(3) == "ms" else 1) if done else 0.0
    return {
        "requests": int(done.group(1)) if done else 0,
        "seconds": seconds,
        "bad": int(bad.group(1)) if bad else 0,
        "output": output,
    }


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes, from /proc (clock ticks)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def worker_pids(server: subprocess.Popen) -> list[int]:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=8, help="enrolled devices (default 8)")
    parser.add_argument(
        "--duration", type=float, default=6, help="seconds of load per path, all rounds (6)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (3)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (2)")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="mdm_bench_connect", help="scratch database")
    parser.add_argument(
        "--profile", type=int, default=0, help="also cProfile this many idle polls in process"
    )
    parser.add_argument("--keep", action="store_true", help="leave gunicorn running at the end")
    args = parser.parse_args()

    wrk = shutil.which("wrk")
    if wrk is None:
        print(
            "connect_poll: wrk is missing; install it, e.g. `apt-get install wrk`", file=sys.stderr
        )
        return 2

    recreate_database(args.postgres, args.database)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    var_dir = Path(tempfile.mkdtemp(prefix="bench-connect-"))
    # The server and this process share the settings (and the keys generated into var_dir).
    os.environ.update(
        DATABASE_URL=f"{args.postgres}/{args.database}",
        PORTAL_BASE_URL=base_url,
        PORTAL_VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="bench.settings_bench",
    )

    import django

    django.setup()
    import logging

    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from enrollment.demo import ensure_demo_enrollment
    from users.models import ManagedUser, Tenant

    logging.disable(logging.WARNING)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("migrate", verbosity=0)
    tenant, _ = Tenant.objects.get_or_create(number=123456, defaults={"name": "Bench"})
    ensure_demo_enrollment(tenant)
    password = "bench-password-2026"  # noqa: S105 - benchmark data
    hashed = make_password(password)
    users = [
        ManagedUser.objects.create(
            tenant=tenant,
            username=f"bench{i}",
            managed_apple_id=f"bench{i}@bench.appleid.com",
            email=f"bench{i}@example.com",
            enrollment_password=hashed,
        )
        for i in range(args.devices)
    ]

    log_path = var_dir / "gunicorn.log"
    with log_path.open("w") as log_file:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "portal.wsgi:application",
                "-w",
                str(args.workers),
                "--threads",
                "1",
                "-b",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=os.environ | {"LOG_LEVEL": "WARNING"},
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(base_url, server, log_path)
        return bench(args, wrk, base_url, var_dir, server, users, password)
    finally:
        if not args.keep:
            server.terminate()
            server.wait(10)
        else:
            print(f"gunicorn left running: pid {server.pid} on {base_url}")


def bench(args, wrk, base_url, var_dir, server, users, password) -> int:
    import base64

    import httpx
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from apple import cms, plist
    from enrollment.addresses import local_address
    from enrollment.simulator import SimulatedDevice
    from mdm.models import Device
    from mdm.queue import enqueue_request

    def enroll(user):
        device = SimulatedDevice(local_address(user), password, server=base_url)
        try:
            return device.enroll()
        finally:
            device.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        devices = list(pool.map(enroll, users))
    print(f"enrolled {len(devices)} devices over HTTP in {time.perf_counter() - started:.1f} s")

    def signed(device, message: dict) -> tuple[dict, bytes]:
        body = plist.dumps(message)
        signature = cms.sign(body, device.identity, device.identity_key, detached=True)
        headers = {
            "Content-Type": CONNECT_TYPE,
            "User-Agent": "MDM/1.0",
            "Mdm-Signature": base64.b64encode(signature).decode(),
            "Authorization": f"Bearer {device.access_token}",
        }
        return headers, body

    idle = [signed(d, {"Status": "Idle", "EnrollmentID": d.enrollment_id}) for d in devices]
    with httpx.Client() as http:
        for headers, body in idle:  # every pre-signed poll is accepted and finds nothing
            response = http.put(f"{base_url}/mdm/connect", content=body, headers=headers)
            if response.status_code != 200 or response.content:
                print(f"pre-signed poll refused: {response.status_code} {response.text[:200]}")
                return 1

    # --- SQL per poll, in this process ------------------------------------------------------
    client = Client(HTTP_HOST="127.0.0.1")

    def put(headers, body, case):
        extra = {
            "HTTP_MDM_SIGNATURE": headers["Mdm-Signature"],
            "HTTP_AUTHORIZATION": headers["Authorization"],
        }
        with CaptureQueriesContext(connection) as captured:
            response = client.put("/mdm/connect", body, content_type=CONNECT_TYPE, **extra)
        if response.status_code != 200:
            raise SystemExit(f"{case}: HTTP {response.status_code} {response.content[:200]!r}")
        return response.content, [q["sql"] for q in captured.captured_queries]

    sim = devices[0]
    row = Device.objects.get(enrollment_id=sim.enrollment_id)
    put(*idle[0], "warm-up")  # the tenant's CA is cached per process after the first request
    content, idle_sql = put(*idle[0], "idle")
    assert content == b"", "idle poll handed out a command"
    enqueue_request(row, "DeviceInformation", None)
    content, queued_sql = put(*idle[0], "queued")
    envelope = plist.loads(content)
    enqueue_request(row, "DeviceInformation", None)
    answer = sim.answer(envelope)
    content, answer_sql = put(*signed(sim, answer), "answer")
    assert plist.loads(content)["CommandUUID"] != envelope["CommandUUID"], "no next command"
    queries = {"idle": idle_sql, "queued": queued_sql, "answer": answer_sql}
    for case, statements in queries.items():
        mark = "ok" if len(statements) <= TARGETS[case] else f"MISSED (target {TARGETS[case]})"
        plain = [q for q in statements if q not in ("BEGIN", "COMMIT")]
        print(
            f"SQL queries per {case} poll: {len(statements)} {mark} "
            f"({len(plain)} without BEGIN/COMMIT)"
        )
        if len(statements) > TARGETS[case]:
            for sql in statements:
                print(f"    {sql[:160]}")

    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for i in range(args.profile):
            put(*idle[1 + i % (len(idle) - 1)], "profiled idle")
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)

    # --- throughput: short alternating rounds, so both see the same load on a shared machine --
    script = var_dir / "connect_poll.lua"
    script.write_text(wrk_script(idle))
    urls = {
        "connect": f"{base_url}/mdm/connect",
        # The reference: a bare Django view, through the server's middleware.
        "bare": f"{base_url}/bench/bare",
        # Stricter: the same view on the device path (skips the browsers' middleware as
        # /mdm/connect does), so the ratio shows only what connect itself costs.
        "bare_device_path": f"{base_url}/mdm/bench-bare",
    }
    for url in urls.values():  # warm both paths in every worker
        run_wrk(wrk, url, script, args, 1)
    workers = worker_pids(server)
    totals = {name: {"requests": 0, "seconds": 0.0, "cpu": 0.0} for name in urls}
    for _ in range(args.rounds):
        for name, url in urls.items():
            cpu_before = cpu_seconds(workers)
            result = run_wrk(wrk, url, script, args, args.duration / args.rounds)
            if result["bad"]:
                print(f"{name}: {result['bad']} non-2xx answers\n{result['output']}")
                return 1
            totals[name]["cpu"] += cpu_seconds(workers) - cpu_before
            totals[name]["requests"] += result["requests"]
            totals[name]["seconds"] += result["seconds"]
    rates, cpu_ms = {}, {}
    for name, total in totals.items():
        rates[name] = total["requests"] / total["seconds"] if total["seconds"] else 0.0
        cpu_ms[name] = 1000 * total["cpu"] / max(1, total["requests"])
        print(
            f"{name}: {rates[name]:.0f} requests/s, gunicorn workers' CPU {cpu_ms[name]:.2f} ms "
            f"per request ({total['requests']} requests in {args.rounds} rounds, "
            f"{args.connections} connections)"
        )
    print(f"CPU per request, bare / connect: {cpu_ms['bare'] / max(cpu_ms['connect'], 1e-9):.2f}")
    ratio = rates["connect"] / rates["bare"] if rates["bare"] else 0.0
    strict = rates["connect"] / rates["bare_device_path"] if rates["bare_device_path"] else 0.0
    print(f"ratio against the bare view on the device path: {strict:.2f}")
    missed = [c for c, s in queries.items() if len(s) > TARGETS[c]]
    if ratio < TARGET_RATIO:
        missed.append("ratio")
    print(
        f"gunicorn: {args.workers} sync workers, wrk: {args.threads} threads, "
        f"{len(idle)} devices; targets: ratio >= {TARGET_RATIO}, queries "
        + ", ".join(f"{c} <= {t}" for c, t in TARGETS.items())
        + (f"; missed: {', '.join(missed)}" if missed else "; all met")
    )
    print(
        f"connect_poll: connect {rates['connect']:.0f}/s, bare {rates['bare']:.0f}/s, "
        f"ratio {ratio:.2f} (device path {strict:.2f}), queries idle {len(idle_sql)}, queued {len(queued_sql)}, "
        f"answer {len(answer_sql)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
