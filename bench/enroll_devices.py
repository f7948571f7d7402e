"""Enroll N simulated iPhones against a portal in another process: server CPU per enrollment and SQL
per check-in.

    .venv/bin/python bench/enroll_devices.py [-n 40] [--workers 4]

The portal runs in other processes on plain HTTP, 127.0.0.1 (devices sign their MDM messages,
so TLS adds nothing the server measures here): on PostgreSQL as in production, gunicorn sync
workers (``--processes``, ``bench/enroll_app.py``); on the embedded SQLite default one process
with a fixed pool of ``--threads`` request threads (``--server`` chooses); either way each
worker or thread keeps its database connection. It runs on a fresh database: a
temporary SQLite file, or the database of DATABASE_URL when set (its tables are created with
migrate; use a scratch database). The simulated devices run in this process, in threads, and
do the whole flow over real HTTP: discovery, signed machine info, web login (password check),
signed profile, SCEP with a fresh 2048-bit key, Authenticate, TokenUpdate, the first connect
(inventory commands answered).

The devices enroll up to TokenUpdate first; then, in a second phase, each makes its first
management session (connects that answer the inventory commands queued at TokenUpdate). The
server's CPU is read at the end of each phase, so the first connects' CPU, their HTTP handling
included, is printed apart; the CPU target is judged on the enrollment phase (the figure with
the connects is printed too).

The server reports its CPU time (``os.times``, or the workers' from /proc) while the devices
enrolled (warm-up enrollments excluded), the CPU
its password checks took (the PBKDF2 hasher's ``verify``, timed per thread), and the SQL
round trips and thread CPU of each device request (BEGIN/COMMIT included). Celery runs eagerly
here, inside the requests; production runs those tasks in workers, so their statements and CPU
are shown apart: the CPU stays in the server's figure, the check-in query counts judged
against the target are the request's own.

``--reference REV`` measures this tree side by side with an older commit in the same run,
alternating (``--rounds``): each run is this harness, in a tree of its own (unpacked from git),
on a fresh database (DATABASE_URL's is dropped and created) and keys. ``--reference 5ac1b2d``
is the code issue 9 measured (~72 ms besides the password check on its machine), so the ratio
of the two is the issue's target in a form the machine's speed does not move: 25 of 72 ms, at
most 0.35. Both trees are judged up to TokenUpdate; the issue's 72 ms also held the first
connect, so this ratio is the stricter reading.
"""

import argparse
import contextlib
import io
import json
import multiprocessing
import os
import plistlib
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# The project's modules come from this file's tree only: setuptools' finder of an editable
# install (``make`` installs one) would serve, after sys.path, what an older tree measured as
# the ``--reference`` lacks from the newer checkout it points to.
sys.meta_path[:] = [
    f
    for f in sys.meta_path
    if not (getattr(f, "__module__", None) or "").startswith("__editable__")
]
sys.path[:] = [entry for entry in sys.path if "__editable__" not in entry]

TARGET_CPU_MS = 25
# The issue's figures came from a machine whose password check took 175 ms of CPU. Machines here
# differ in speed by more than a change measured in ms (checks of 172-280 ms seen), so each run
# also prints its figure in units of its own password check (PBKDF2 in OpenSSL, measured in the
# same run) and what that is on a machine whose check takes 175 ms. The target stays in ms.
REFERENCE_CHECK_MS = 175
TARGET_CHECKIN_QUERIES = 5
# Issue 9's figure for its own code: ~72 ms besides the password check, first connect included;
# its target of 25 ms as a share of that, for ``--reference`` runs against that code.
ISSUE_COMMIT = "5ac1b2d"
ISSUE_CODE_MS = 72
TARGET_RATIO = TARGET_CPU_MS / ISSUE_CODE_MS
# The project's packages: a tree measured as the reference must import only its own.
PACKAGES = ("apple", "bench", "enrollment", "mdm", "portal", "users")


# The statements of the current request thread (``sent``, their SQL in ``texts``) and what its
# eager Celery tasks did (production runs them in workers, off the request path): their
# statements and thread CPU.
STATS = threading.local()


def _sent(sql: str) -> None:
    if getattr(STATS, "texts", None) is not None:
        STATS.texts.append(sql)


def count_statements() -> None:
    """Counts BEGIN/COMMIT/ROLLBACK as Django sends them. Statements are counted by an execute
    wrapper (``QueryCounter``); Django's debug cursor would format every statement's parameters
    and add that CPU to the server's figure."""
    from django.db.backends.base import base

    original = base.debug_transaction

    @contextlib.contextmanager
    def counted(connection, sql):
        _sent(sql)
        with original(connection, sql):
            yield

    base.debug_transaction = counted


def _wrapper(execute, sql, params, many, context):
    _sent(sql)
    return execute(sql, params, many, context)


def count_tasks() -> None:
    from celery.signals import task_postrun, task_prerun

    def started(**kwargs):
        STATS.task_started = (len(STATS.texts), time.thread_time())

    def finished(**kwargs):
        statements, cpu = STATS.task_started
        STATS.task_statements += len(STATS.texts) - statements
        STATS.task_cpu += time.thread_time() - cpu

    task_prerun.connect(started, weak=False)
    task_postrun.connect(finished, weak=False)


_MESSAGE_TYPE = re.compile(rb"<key>MessageType</key>\s*<string>([A-Za-z]{1,40})</string>")


def _message_type(body: bytes) -> str | None:
    """The check-in's MessageType, for the label, found without parsing the body: the bench's
    own work counts as the server's CPU (a plistlib parse of a check-in costs ~26 us, the
    search 0.4 us). A body in another shape is parsed; a malformed one counts as None."""
    found = _MESSAGE_TYPE.search(body)
    if found:
        return found.group(1).decode()
    with contextlib.suppress(Exception):
        return plistlib.loads(body).get("MessageType")
    return None


class QueryCounter:
    """WSGI wrapper: the SQL round trips and the thread CPU of each device request, by path
    and check-in message type (the CPU includes what runs in the request, such as eager tasks
    and password checks)."""

    def __init__(self, app):
        self.app = app
        self.counts = defaultdict(list)
        self.samples = {}  # the statements of the last request of each kind
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        from django.db import connection

        key = environ.get("PATH_INFO", "")
        if key == "/mdm/checkin":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(body)
            key = f"check-in {_message_type(body)}"
        started = time.thread_time()
        STATS.texts, STATS.task_statements, STATS.task_cpu = [], 0, 0.0
        try:
            with connection.execute_wrapper(_wrapper):
                response = self.app(environ, start_response)
                try:
                    result = list(response)
                finally:
                    # As a WSGI server does, inside the measurement: Django's request_finished
                    # (connection upkeep) runs when the response is closed.
                    response.close()
        finally:
            statements, STATS.texts = STATS.texts, None
        cpu = time.thread_time() - started
        plain = sum(1 for sql in statements if sql not in ("BEGIN", "COMMIT"))
        with self.lock:
            self.counts[key].append(
                (time.time(), len(statements), plain, cpu, STATS.task_statements, STATS.task_cpu)
            )
            self.samples[key] = statements
        return result


class PasswordTimer:
    """Thread CPU spent in the PBKDF2 hasher's ``verify`` (the enrollment password check)."""

    def __init__(self):
        from django.contrib.auth import hashers

        self.checks, self.lock = [], threading.Lock()  # (when, CPU seconds)
        original = hashers.PBKDF2PasswordHasher.verify
        timer = self

        def verify(hasher, password, encoded):
            started = time.thread_time()
            try:
                return original(hasher, password, encoded)
            finally:
                with timer.lock:
                    timer.checks.append((time.time(), time.thread_time() - started))

        hashers.PBKDF2PasswordHasher.verify = verify


def foreign_modules() -> list[str]:
    """The project's modules loaded from another tree than this file's (an editable install of
    a newer checkout serves modules an older tree lacks): a reference run must have none."""
    return sorted(
        name
        for name, module in list(sys.modules.items())
        if name.partition(".")[0] in PACKAGES
        and getattr(module, "__file__", None)
        and not Path(module.__file__).resolve().is_relative_to(ROOT)
    )


def instrumented_app():
    """The portal's WSGI app with the counters above (in the server process or worker)."""
    import logging

    from django.conf import settings

    from portal.wsgi import application  # production's WSGI module, as gunicorn loads it

    logging.disable(logging.WARNING)  # per-request audit and task lines would drown the figures
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    counter = QueryCounter(application)
    count_statements()
    count_tasks()
    return counter, PasswordTimer()


def figures(counter: QueryCounter, passwords: PasswordTimer) -> dict:
    return {
        "counts": dict(counter.counts),
        "samples": counter.samples,
        "passwords": passwords.checks,
        "foreign": foreign_modules(),
    }


def serve(pipe, port: int, threads: int) -> None:
    """The server process: the portal over plain HTTP until told to stop, then its figures."""
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

    counter, passwords = instrumented_app()

    class Quiet(WSGIRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 - signature from the base class
            pass

    class Server(WSGIServer):
        """A fixed pool of request threads, as gunicorn's threaded workers have: each keeps its
        database connection (a thread per request would open one per request)."""

        allow_reuse_address = True
        pool = ThreadPoolExecutor(threads, thread_name_prefix="request")

        def process_request(self, request, client_address):
            self.pool.submit(self._handle, request, client_address)

        def _handle(self, request, client_address):
            try:
                self.finish_request(request, client_address)
            except Exception:  # noqa: BLE001 - as socketserver does: report, keep serving
                self.handle_error(request, client_address)
            finally:
                self.shutdown_request(request)

    server = Server(("127.0.0.1", port), Quiet)
    server.set_app(counter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    pipe.send("ready")
    pipe.recv()  # "start": the devices begin now
    started = os.times()
    while pipe.recv() == "lap":  # the end of a phase: its CPU; "stop" ends the last one
        ended = os.times()
        pipe.send((ended.user - started.user) + (ended.system - started.system))
        started = ended
    ended = os.times()
    server.shutdown()
    cpu = (ended.user - started.user) + (ended.system - started.system)
    pipe.send({"cpu": cpu, **figures(counter, passwords)})


class InProcessServer:
    """The embedded default's shape: one server process, a pool of request threads."""

    name = "one process with a pool of {threads} request threads"

    def __init__(self, port: int, args):
        context = multiprocessing.get_context("spawn")  # a clean interpreter, no shared conns
        self.pipe, child_pipe = context.Pipe()
        self.process = context.Process(
            target=serve, args=(child_pipe, port, args.threads), daemon=True
        )
        self.process.start()
        if not self.pipe.poll(60):
            self.process.kill()
            raise SystemExit("enroll_devices: the server process did not start")
        self.pipe.recv()
        self.name = self.name.format(threads=args.threads)

    def start(self):
        self.pipe.send("start")

    def lap(self) -> float:
        """The server's CPU seconds since the start or the last lap."""
        self.pipe.send("lap")
        return self.pipe.recv()

    def stop(self) -> dict:
        """The figures, with the CPU seconds since the last lap."""
        self.pipe.send("stop")
        report = self.pipe.recv()
        self.process.join(10)
        return report


class GunicornServer:
    """Production's shape (``docker-compose.yml``): gunicorn sync workers
    (``bench/enroll_app.py``), each keeping its database connection; with
    ``--gunicorn-threads`` above 1, threaded workers (gthread) instead, to compare. Every worker
    writes its counters to a file when it exits."""

    def __init__(self, port: int, args):
        threads = ["--threads", str(args.gunicorn_threads)] if args.gunicorn_threads > 1 else []
        self.name = (
            f"gunicorn, {args.processes} threaded workers (gthread, {args.gunicorn_threads} "
            "threads each)"
            if threads
            else f"gunicorn, {args.processes} sync workers"
        )
        self.stats = Path(tempfile.mkdtemp(prefix="bench-enroll-stats-"))
        self.log = self.stats / "gunicorn.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "bench.enroll_app:application",
                    "-w",
                    str(args.processes),
                    "-b",
                    f"127.0.0.1:{port}",
                    "--log-level",
                    "warning",
                    *threads,
                ],
                cwd=ROOT,
                env=os.environ | {"ENROLL_BENCH_STATS": str(self.stats)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_until_up(f"http://127.0.0.1:{port}")

    def _wait_until_up(self, url: str) -> None:
        import httpx

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited:\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=2).status_code < 500:
                    return
            time.sleep(0.2)
        raise SystemExit("gunicorn did not answer within 30 s")

    def _cpu(self) -> float:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        total = 0
        for pid in children.read_text().split():
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / os.sysconf("SC_CLK_TCK")

    def start(self):
        self.cpu = self._cpu()

    def lap(self) -> float:
        """The workers' CPU seconds since the start or the last lap."""
        now = self._cpu()
        cpu, self.cpu = now - self.cpu, now
        return cpu

    def stop(self) -> dict:
        """The figures, with the CPU seconds since the last lap."""
        cpu = self._cpu() - self.cpu
        self.process.terminate()
        self.process.wait(30)
        report = {
            "cpu": cpu,
            "counts": defaultdict(list),
            "samples": {},
            "passwords": [],
            "foreign": [],
        }
        for path in self.stats.glob("*.json"):
            worker = json.loads(path.read_text())
            for key, values in worker["counts"].items():
                report["counts"][key].extend(values)
            report["samples"].update(worker["samples"])
            report["passwords"].extend(worker["passwords"])
            report["foreign"].extend(worker["foreign"])
        shutil.rmtree(self.stats)
        return report


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=40, help="devices to enroll (default 40)")
    parser.add_argument("--workers", type=int, default=4, help="devices enrolling at once (4)")
    parser.add_argument(
        "--server",
        choices=["auto", "gunicorn", "threads"],
        default="auto",
        help="gunicorn sync workers as in production, or one process with request threads "
        "(auto: gunicorn on PostgreSQL, threads on the embedded SQLite default)",
    )
    parser.add_argument("--processes", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--threads", type=int, default=4, help="request threads (4)")
    parser.add_argument(
        "--gunicorn-threads",
        type=int,
        default=1,
        help="threads per gunicorn worker (1: sync workers, as docker-compose.yml runs them; "
        "more: gthread workers, to compare)",
    )
    parser.add_argument(
        "--show-sql", action="store_true", help="print the statements of each check-in type"
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=6,
        help="devices enrolled before measuring (6: enough for every worker to have served "
        "each request once; a long-lived worker pays its first-request costs once)",
    )
    parser.add_argument(
        "--reference",
        metavar="REV",
        help="also measure this older commit, alternating with this tree in the same run "
        f"({ISSUE_COMMIT}: the code issue 9 measured, judged against its target); prints the "
        "ratio",
    )
    parser.add_argument("--rounds", type=int, default=2, help="with --reference: rounds (2)")
    parser.add_argument("--summary", type=Path, help=argparse.SUPPRESS)  # a run's figures, JSON
    args = parser.parse_args()
    if args.reference:
        return compare(args)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # Server and devices share the settings, the database and the keys generated into var/.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("PORTAL_VAR_DIR", tempfile.mkdtemp(prefix="bench-enroll-"))
    os.environ["PORTAL_BASE_URL"] = url

    import django

    django.setup()
    import logging

    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connections

    from enrollment.addresses import local_address
    from enrollment.demo import ensure_demo_enrollment
    from enrollment.simulator import SimulatedDevice
    from mdm.models import Device
    from users.models import ManagedUser, Tenant

    logging.disable(logging.WARNING)
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
    addresses = [local_address(u) for u in users]
    connections.close_all()

    sqlite = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
    if args.server == "auto":
        args.server = "threads" if sqlite else "gunicorn"
    server = (GunicornServer if args.server == "gunicorn" else InProcessServer)(port, args)

    def enroll(i, devices=None):
        """Enroll device ``i``; kept in ``devices`` (to connect later) or closed after its
        first connects."""
        device = SimulatedDevice(addresses[i % len(addresses)], password, server=url)
        try:
            # The steps of ``enroll`` one by one: an older tree's simulator (``--reference``)
            # has them, not always the switch that stops before the first connect.
            device.discover()
            device.post_machine_info(expect_challenge=True)
            device.web_login()
            device.fetch_profile()
            device.scep_enroll()
            device.authenticate()
            device.token_update()
            if devices is None:
                device.connect()
            else:
                devices.append(device)
            return None
        except Exception as exc:  # report, count as not enrolled
            device.close()
            return f"device {i}: {exc}"
        finally:
            if devices is None:
                device.close()

    def first_connects(device):
        try:
            device.connect()
            return None
        except Exception as exc:  # report
            return f"device {device.enrollment_id}: {exc}"
        finally:
            device.close()

    warm = [enroll(args.n + i) for i in range(args.warmup)]  # imports, caches: not measured
    if any(warm):
        print(warm[0])
        return 1
    before = Device.objects.count()
    devices = []
    server.start()
    started, since = time.perf_counter(), time.time()
    with ThreadPoolExecutor(args.workers) as pool:
        failures = [f for f in pool.map(lambda i: enroll(i, devices), range(args.n)) if f]
    elapsed, middle = time.perf_counter() - started, time.time()
    enroll_cpu = server.lap()
    with ThreadPoolExecutor(args.workers) as pool:
        failures += [f for f in pool.map(first_connects, devices) if f]
    until = time.time()
    report = server.stop()
    foreign = sorted(set(report["foreign"] + foreign_modules()))
    if foreign:
        print(f"enroll_devices: modules of another tree were loaded: {', '.join(foreign[:5])}")
        return 1
    connect_cpu = report["cpu"]
    enrolled = Device.objects.filter(status=Device.Status.ENROLLED).count() - before
    for failure in failures[:5]:
        print(failure)

    # Only what happened while the measured devices enrolled and connected (not the warm-up).
    passwords = [cpu for when, cpu in report["passwords"] if since <= when <= middle]
    counts = {}
    for label, values in report["counts"].items():
        kept = [v[1:] for v in values if since <= v[0] <= until]
        if kept:
            counts[label] = kept

    per = max(1, enrolled)
    cpu_ms = 1000 * enroll_cpu / per
    password_ms = 1000 * sum(passwords) / per
    enrollment_ms = cpu_ms - password_ms
    check_ms = 1000 * sum(passwords) / max(1, len(passwords))  # one check: the machine's speed
    checks = enrollment_ms / check_ms if check_ms else None
    scaled_ms = checks * REFERENCE_CHECK_MS if checks is not None else enrollment_ms
    connect_ms = 1000 * connect_cpu / per
    print(
        f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
        f"server: {server.name}, devices enrolling at once: {args.workers}, "
        f"{args.warmup} warm-up enrollment(s) not measured"
    )
    print(
        f"enrolled {enrolled}/{args.n} devices in {elapsed:.1f} s "
        f"= {enrolled / elapsed:.1f} enrollments/s (up to TokenUpdate; first connects after)"
    )
    print(
        f"server CPU while enrolling: {1000 * enroll_cpu:.0f} ms = {cpu_ms:.1f} ms/enrollment, "
        f"of which {password_ms:.1f} ms in {len(passwords)} password checks "
        f"({check_ms:.1f} ms each)"
    )
    medians = {}
    task_cpu = thread_cpu = 0.0
    for label in sorted(counts):
        values = counts[label]
        total = [v[0] for v in values]
        plain = [v[1] for v in values]
        own = [v[0] - v[3] for v in values]
        medians[label] = statistics.median(own)
        cpu = [1000 * v[2] for v in values]
        in_tasks = sum(1000 * v[4] for v in values)
        if label != "/mdm/connect":
            task_cpu += in_tasks
            thread_cpu += sum(cpu)
        print(
            f"SQL per {label}: median {statistics.median(total):.0f} "
            f"({statistics.median(plain):.0f} without BEGIN/COMMIT; "
            f"{statistics.median(own):.0f} of the request itself, the rest in eager tasks), "
            f"max {max(total)}, {len(values)} requests; thread CPU "
            f"{sum(cpu) / per:.1f} ms per enrollment "
            f"({in_tasks / per:.1f} ms of it in eager tasks)"
        )
        if args.show_sql and label.startswith("check-in "):
            for sql in report["samples"][label]:
                print(f"    {sql[:150]}")
    outside = cpu_ms - thread_cpu / per
    checkins = {k: v for k, v in medians.items() if k.startswith("check-in ")}
    missed = [f"{k} {v:.0f} queries" for k, v in checkins.items() if v > TARGET_CHECKIN_QUERIES]
    if enrollment_ms > TARGET_CPU_MS:
        missed.insert(0, f"{enrollment_ms:.0f} ms CPU besides the password check")
    print(
        f"besides the password check: {enrollment_ms:.1f} ms per enrollment; of it "
        f"{task_cpu / per:.1f} ms in eager tasks (in workers in production) and "
        f"{outside:.1f} ms outside the requests' threads (the HTTP server, the kernel's sockets)"
    )
    if checks is not None:
        print(
            f"machine speed: one password check took {check_ms:.0f} ms; besides it an enrollment "
            f"took {checks:.3f} checks, {scaled_ms:.1f} ms where a check takes "
            f"{REFERENCE_CHECK_MS} ms (the issue's machine)"
        )
    print(
        f"first connects after TokenUpdate (inventory): {connect_ms:.1f} ms server CPU per "
        f"enrollment; with them, {enrollment_ms + connect_ms:.1f} ms besides the password check"
    )
    print(
        f"targets: <= {TARGET_CPU_MS} ms server CPU per enrollment besides the password check "
        f"(first connects not counted), <= {TARGET_CHECKIN_QUERIES} queries per check-in "
        "message; " + (f"missed: {', '.join(missed)}" if missed else "all met")
    )
    print(
        f"enroll_devices: {enrolled}/{args.n} in {elapsed:.1f} s, server CPU "
        f"{cpu_ms:.0f} ms/enrollment ({enrollment_ms:.0f} ms without password check, "
        f"{scaled_ms:.0f} ms at a {REFERENCE_CHECK_MS} ms check; first "
        f"connects {connect_ms:.0f} ms more), own queries authenticate "
        f"{medians.get('check-in Authenticate', 0):.0f}, "
        f"token_update {medians.get('check-in TokenUpdate', 0):.0f}"
    )
    if args.summary:
        args.summary.write_text(
            json.dumps({"ms": enrollment_ms, "check_ms": check_ms, "connect_ms": connect_ms})
        )
    return 0 if enrolled == args.n else 1


def _reference_tree(rev: str, into: Path) -> str:
    """The commit ``rev`` unpacked into ``into`` with this harness in its ``bench/`` (the same
    measurement for both trees); returns the commit's short name."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", f"{rev}^{{commit}}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    (into / "bench").mkdir(exist_ok=True)
    for name in ("enroll_devices.py", "enroll_app.py"):
        shutil.copy(ROOT / "bench" / name, into / "bench" / name)
    return commit


def compare(args) -> int:
    """This tree and ``args.reference`` alternately, each run on a fresh database and keys;
    prints each run and the ratio of the medians."""
    from bench.fuzz_devices import recreate_database  # this tree's: the reference may lack it

    work = Path(tempfile.mkdtemp(prefix="bench-enroll-reference-"))
    try:
        (work / "reference").mkdir()
        commit = _reference_tree(args.reference, work / "reference")
        trees = {commit: work / "reference", "this tree": ROOT}
        passed = ["-n", str(args.n), "--workers", str(args.workers), "--warmup", str(args.warmup)]
        passed += ["--server", args.server, "--processes", str(args.processes)]
        passed += ["--threads", str(args.threads), "--gunicorn-threads", str(args.gunicorn_threads)]
        results = defaultdict(list)
        for round_ in range(1, args.rounds + 1):
            for label, tree in trees.items():
                if os.environ.get("DATABASE_URL"):
                    recreate_database(os.environ["DATABASE_URL"])
                summary = work / "summary.json"
                summary.unlink(missing_ok=True)
                run = subprocess.run(
                    [sys.executable, "bench/enroll_devices.py", *passed, "--summary", str(summary)],
                    cwd=tree,
                    env=os.environ | {"PORTAL_VAR_DIR": tempfile.mkdtemp(dir=work)},
                    capture_output=True,
                    text=True,
                )
                if run.returncode or not summary.exists():
                    print(run.stdout[-3000:], run.stderr[-3000:])
                    print(f"enroll_devices: the run of {label} failed")
                    return 1
                figures_ = json.loads(summary.read_text())
                results[label].append(figures_)
                print(
                    f"round {round_}, {label}: {figures_['ms']:.1f} ms besides the password check "
                    f"(first connects {figures_['connect_ms']:.1f} ms more; one password check "
                    f"{figures_['check_ms']:.0f} ms)"
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ours = statistics.median(r["ms"] for r in results["this tree"])
    theirs = statistics.median(r["ms"] for r in results[commit])
    ratio = ours / theirs
    target = ""
    if commit.startswith(ISSUE_COMMIT):  # the target is a share of this commit's figure only
        verdict = "met" if ratio <= TARGET_RATIO else "missed"
        target = (
            f"; target against the issue's code <= {TARGET_RATIO:.2f} "
            f"({TARGET_CPU_MS} of its {ISSUE_CODE_MS} ms): {verdict}"
        )
    print(
        f"enroll_devices: this tree {ours:.1f} ms, {commit} {theirs:.1f} ms besides the password "
        f"check (medians of {args.rounds}), ratio {ratio:.2f}{target}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
