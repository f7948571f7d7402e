"""Push N fake MDM pushes through ``apple.apns.send`` to a local nginx and compare with h2load.

    .venv/bin/python bench/apns_push.py [--counts 10000,100000] [--concurrency 500]

Starts Debian's nginx on loopback (temporary prefix, current user, one worker, TLS with a
self-signed server certificate, HTTP/2 with 1000 streams, ``return 200`` for /3/device/, client
certificates required and verified against a self-made push certificate), then per N: sends N
pushes in this one process over one connection, and runs ``h2load -n N -c 1 -m 1000`` with the
same headers and body against the same nginx. h2load has no client-certificate option, so it
gets a second port of that nginx without client verification (one connection: the handshake
is negligible). Needs ``nginx`` (nginx-light) and ``h2load`` (nghttp2-client); installs nothing.
"""

import argparse
import ipaddress
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("PORTAL_VAR_DIR", tempfile.mkdtemp(prefix="bench-apns-"))

NGINX_CONF = """\
{user}worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    keepalive_requests 10000000;  # nginx ends a connection after 1000 requests by default
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    ssl_certificate {dir}/server.pem;
    ssl_certificate_key {dir}/server.key;
    {http2_on}
    http2_max_concurrent_streams 1000;
    server {{
        listen 127.0.0.1:{port} ssl{http2_listen};
        ssl_client_certificate {dir}/push.pem;
        ssl_verify_client on;
        location /3/device/ {{ return 200; }}
    }}
    server {{
        listen 127.0.0.1:{h2load_port} ssl{http2_listen};
        location /3/device/ {{ return 200; }}
    }}
}}
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="10000,100000", help="comma-separated push counts")
    parser.add_argument(
        "--concurrency", type=int, default=None, help="streams in flight (APNS_CONCURRENCY)"
    )
    args = parser.parse_args()
    counts = [int(n) for n in args.counts.split(",")]

    missing = [tool for tool in ("nginx", "h2load") if not _which(tool)]
    if missing:
        print(
            f"missing {', '.join(missing)}: apt-get install nginx-light nghttp2-client",
            file=sys.stderr,
        )
        return 2

    import django

    django.setup()
    from django.conf import settings

    from apple.apns import Outcome, Push, send
    from apple.push_identity import PushIdentity

    args.concurrency = args.concurrency or settings.APNS_CONCURRENCY
    with tempfile.TemporaryDirectory(prefix="bench-apns-nginx-") as directory:
        workdir = Path(directory)
        identity = _push_identity(PushIdentity)
        (workdir / "push.pem").write_bytes(identity.certificate_pem)
        _server_certificate(workdir)
        port, h2load_port = _free_port(), _free_port()
        nginx = _start_nginx(workdir, port, h2load_port)
        try:
            base_url = f"https://127.0.0.1:{port}"
            ca_file = str(workdir / "server.pem")
            summary = ""
            for n in counts:
                batch = [Push(os.urandom(32), str(uuid.uuid4()), ref=i) for i in range(n)]
                started, cpu = time.perf_counter(), time.process_time()
                results = send(
                    identity,
                    batch,
                    base_url=base_url,
                    ca_file=ca_file,
                    concurrency=args.concurrency,
                )
                seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
                ok = sum(1 for r in results if r.outcome is Outcome.OK)
                if ok != n:
                    print(f"only {ok} of {n} pushes OK: {results[0]}", file=sys.stderr)
                    return 1
                ours = n / seconds
                theirs = _h2load(workdir, h2load_port, n, identity, batch[0])
                print(
                    f"N={n}: apple.apns {ours:,.0f} pushes/s ({seconds:.2f} s, {cpu:.2f} s CPU, "
                    f"concurrency {args.concurrency}), h2load {theirs:,.0f} req/s, "
                    f"ratio {ours / theirs:.2f}"
                )
                summary = (
                    f"apns_push: {ours:.0f}/s, h2load {theirs:.0f}/s, ratio {ours / theirs:.2f}"
                )
            print(summary)
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)
    return 0


def _which(tool: str) -> str | None:
    return shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_nginx(workdir: Path, port: int, h2load_port: int) -> subprocess.Popen:
    nginx = _which("nginx")
    version = subprocess.run([nginx, "-v"], capture_output=True, text=True).stderr
    major_minor = tuple(int(x) for x in re.search(r"nginx/(\d+)\.(\d+)", version).groups())
    new_style = major_minor >= (1, 25)  # "http2 on;" replaced "listen ... http2" in 1.25.1
    user = ""
    if os.geteuid() == 0:  # workers would switch to nobody, who cannot read the temp files
        user = "user root;\n"
    conf = workdir / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            user=user,
            dir=workdir,
            port=port,
            h2load_port=h2load_port,
            http2_on="http2 on;" if new_style else "",
            http2_listen="" if new_style else " http2",
        )
    )
    process = subprocess.Popen(
        [nginx, "-p", str(workdir), "-c", str(conf), "-e", str(workdir / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"nginx did not start: {process.stderr.read().decode()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            socket.create_connection(("127.0.0.1", h2load_port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.terminate()
    raise SystemExit("nginx did not listen within 10 s")


def _h2load(workdir: Path, port: int, n: int, identity, push) -> float:
    """h2load's req/s for N requests like ours (same headers and body) on one connection."""
    body = workdir / "body.json"
    body.write_bytes(b'{"mdm":"' + push.push_magic.encode() + b'"}')
    headers = [
        f"apns-topic: {identity.topic}",
        "apns-push-type: mdm",
        "apns-priority: 10",
        f"apns-expiration: {int(time.time()) + 86400}",
        "content-type: application/json",
    ]
    command = [_which("h2load"), "-n", str(n), "-c", "1", "-m", "1000", "-d", str(body)]
    for header in headers:
        command += ["-H", header]
    command.append(f"https://127.0.0.1:{port}/3/device/{push.token.hex()}")
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    succeeded = re.search(r"(\d+) succeeded", output)
    if not succeeded or int(succeeded.group(1)) != n:
        raise SystemExit(f"h2load did not succeed:\n{output}")
    return float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", output).group(1))


def _push_identity(push_identity_class):
    from cryptography.hazmat.primitives.asymmetric import rsa

    from apple import x509util

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    topic = f"com.apple.mgmt.External.{uuid.uuid4()}"
    certificate = x509util.self_signed(
        key, x509util.name(cn="APSP:bench", USER_ID=topic, COUNTRY_NAME="US"), days=2
    )
    return push_identity_class(
        tenant_id=0,
        topic=topic,
        certificate_pem=x509util.certificate_pem(certificate),
        private_key_pem=x509util.private_key_pem(key),
        not_after=certificate.not_valid_after_utc,
        is_demo=True,
    )


def _server_certificate(workdir: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

    from apple import x509util

    key = ec.generate_private_key(ec.SECP256R1())
    san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    certificate = x509util.self_signed(
        key,
        x509util.name(cn="bench-apns.localhost"),
        days=2,
        extensions=[(san, False), (x509.BasicConstraints(ca=True, path_length=None), True)],
    )
    (workdir / "server.key").write_bytes(x509util.private_key_pem(key))
    (workdir / "server.key").chmod(0o600)
    (workdir / "server.pem").write_bytes(x509util.certificate_pem(certificate))


if __name__ == "__main__":
    sys.exit(main())
