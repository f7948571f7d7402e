"""The embedded default's HTTPS: a local CA and a server certificate made on first run,
and a threaded WSGI server speaking TLS (used by ``manage.py serve`` and live-server tests).

Production terminates TLS at a proxy instead; none of this runs there.
"""

import datetime
import ipaddress
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from users.files import private_dir, write_private


@dataclass(frozen=True)
class LocalTLS:
    ca_path: Path
    cert_path: Path
    key_path: Path


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "MDM Portal local"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _write_key(path: Path, key) -> None:
    write_private(
        path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


def ensure_local_tls(directory: Path, hostnames: tuple[str, ...] = ("localhost",)) -> LocalTLS:
    """Create (once) a local CA and a server certificate for ``hostnames`` in ``directory``."""
    private_dir(directory)
    ca_path, ca_key_path = directory / "local-ca.pem", directory / "local-ca.key"
    names = sorted(set(hostnames) | {"localhost", "127.0.0.1"})
    tag = "-".join(n.replace(":", "_") for n in names)
    cert_path, key_path = directory / f"server-{tag}.pem", directory / f"server-{tag}.key"
    now = datetime.datetime.now(datetime.UTC)
    if not ca_path.exists() or not ca_key_path.exists():
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = (
            x509.CertificateBuilder()
            .subject_name(_name("MDM Portal local CA"))
            .issuer_name(_name("MDM Portal local CA"))
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        _write_key(ca_key_path, ca_key)
        ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    if not cert_path.exists() or not key_path.exists():
        ca = x509.load_pem_x509_certificate(ca_path.read_bytes())
        ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), None)
        key = ec.generate_private_key(ec.SECP256R1())
        alt = []
        for n in names:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                alt.append(x509.DNSName(n))
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(names[0]))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=397))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        _write_key(key_path, key)
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + ca_path.read_bytes())
    return LocalTLS(ca_path=ca_path, cert_path=cert_path, key_path=key_path)


SERVER_NAME = "MDM-Portal"


class _TLSHandler(WSGIRequestHandler):
    # No Python version in the Server header (also of error pages the handler writes itself).
    server_version = SERVER_NAME
    sys_version = ""

    def get_environ(self):
        # The request came over TLS: Django's request.is_secure() and CSRF origin checks rely
        # on the WSGI scheme being https.
        environ = super().get_environ()
        environ["HTTPS"] = "on"
        environ["wsgi.url_scheme"] = "https"
        return environ


class _QuietHandler(_TLSHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature from the base class
        pass


def _server_header(app):
    """wsgiref adds ``Server: WSGIServer/0.2 CPython/3.x`` unless the app sets one."""

    def wrapped(environ, start_response):
        def start(status, headers, exc_info=None):
            if not any(name.lower() == "server" for name, _ in headers):
                headers = [*headers, ("Server", SERVER_NAME)]
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return wrapped


class ThreadedTLSServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, tls: LocalTLS, app, *, quiet: bool = False):
        super().__init__(address, _QuietHandler if quiet else _TLSHandler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls.cert_path, tls.key_path)
        self._context = context
        self.set_app(_server_header(app))

    def get_request(self):
        # Handshake in the request thread, not in the accept loop, so one slow client
        # cannot stall the others.
        sock, addr = super().get_request()
        return self._context.wrap_socket(
            sock, server_side=True, do_handshake_on_connect=False
        ), addr

    def process_request_thread(self, request, client_address):
        # One thread per request: close its database connections when it ends, as Django's
        # own threaded server does, or every request leaves a connection open (PostgreSQL
        # runs out of them under load).
        try:
            super().process_request_thread(request, client_address)
        finally:
            from django.db import connections

            connections.close_all()

    def finish_request(self, request, client_address):
        try:
            request.do_handshake()
        except (ssl.SSLError, OSError):
            return
        super().finish_request(request, client_address)


def serve_in_thread(
    app, tls: LocalTLS, host: str = "localhost", port: int = 0
) -> tuple[ThreadedTLSServer, threading.Thread]:
    server = ThreadedTLSServer((host, port), tls, app, quiet=True)
    thread = threading.Thread(target=server.serve_forever, name="tls-live-server", daemon=True)
    thread.start()
    return server, thread
