"""A local APNs for tests: a real HTTP/2 TLS server on 127.0.0.1 that the real client talks to.

    peer = ApnsPeer(trusted=[push_certificate_pem]).start()
    send(identity, pushes, base_url=peer.url, ca_file=peer.ca_file)
    peer.requests, peer.connections, peer.errors, peer.first_answer_concurrency, peer.max_open

It requires a client certificate and trusts exactly the given (self-signed) certificates, checks
every request like APNs would for MDM (path, topic = the certificate's UID, push type, priority,
expiration, a body with only ``mdm``) and answers ``responses[token_hex]`` or ``default`` as
``(status, reason)``, after ``delay`` seconds. ``drop_after=N`` closes the TCP connection right
after its Nth answer (on the first ``drop_connections`` connections, all when None).
"""

import contextlib
import datetime as dt
import hashlib
import heapq
import ipaddress
import json
import re
import select
import socket
import ssl
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import h2.config
import h2.connection
import h2.events
import h2.settings
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PATH = re.compile(rb"/3/device/([0-9a-f]+)")


@dataclass
class Request:
    token: str  # lower-case hex from the path
    topic: str  # apns-topic header
    fingerprint: str  # sha256 of the client certificate's PEM (PushIdentity.fingerprint)
    connection: int  # 1-based number of the connection it came on
    headers: dict = field(default_factory=dict)
    body: bytes = b""


class ApnsPeer:
    def __init__(
        self,
        trusted=(),
        *,
        default=(200, ""),
        responses=None,
        delay: float = 0.0,
        drop_after: int | None = None,
        drop_connections: int | None = None,
        retry_after: str | None = None,
        max_concurrent_streams: int = 1000,
    ):
        self.default, self.responses = default, dict(responses or {})
        self.delay, self.retry_after = delay, retry_after
        self.drop_after, self.drop_connections = drop_after, drop_connections
        self.max_concurrent_streams = max_concurrent_streams
        self.requests: list[Request] = []
        self.errors: list[str] = []  # requests APNs would refuse as malformed
        self.connections = 0  # TLS handshakes that succeeded
        self.handshake_failures = 0
        self.first_answer_concurrency: list[int] = []  # streams open before the 1st answer
        self.max_open = 0  # most streams open at once on any connection
        self._lock = threading.Lock()
        self._dir = tempfile.TemporaryDirectory(prefix="apns-peer-")
        self.ca_file = self._server_certificate(Path(self._dir.name))
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.context.load_cert_chain(self.ca_file, str(Path(self._dir.name) / "server.key"))
        self.context.verify_mode = ssl.CERT_REQUIRED
        self.context.set_alpn_protocols(["h2"])
        for pem in trusted:
            self.trust(pem)
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._stopping = False

    def trust(self, certificate_pem: bytes) -> None:
        """Accept client certificates that are (or are issued by) this one from now on."""
        self.context.load_verify_locations(cadata=certificate_pem.decode())

    def start(self) -> "ApnsPeer":
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self._listener.settimeout(0.2)
        self.url = f"https://127.0.0.1:{self._listener.getsockname()[1]}"
        self._spawn(self._accept)
        return self

    def stop(self) -> None:
        self._stopping = True
        self._listener.close()
        for sock in list(self._sockets):
            with contextlib.suppress(OSError):
                sock.close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._dir.cleanup()

    def _spawn(self, target, *args):
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self):
        while not self._stopping:
            try:
                raw, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._spawn(self._serve, raw)

    def _serve(self, raw: socket.socket):
        raw.settimeout(10)
        sock = self.context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
        self._sockets.append(sock)
        try:
            sock.do_handshake()
        except (ssl.SSLError, OSError):
            with self._lock:
                self.handshake_failures += 1
            _close_gently(sock)
            return
        try:
            der = sock.getpeercert(binary_form=True)
        except (AttributeError, ValueError, OSError):  # stop() closed it after the handshake
            sock.close()
            return
        with self._lock:
            self.connections += 1
            number = self.connections
        try:
            _Connection(self, sock, number, der).run()
        except (OSError, ssl.SSLError):
            pass  # the client went away
        finally:
            sock.close()

    def _answer(self, token: str) -> tuple[int, str]:
        return self.responses.get(token, self.default)

    @staticmethod
    def _server_certificate(directory: Path) -> str:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "apns-peer.localhost")])
        now = dt.datetime.now(dt.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(
                x509.SubjectAlternativeName(
                    [
                        x509.DNSName("localhost"),
                        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    ]
                ),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        (directory / "server.key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        path = directory / "server.pem"
        path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        return str(path)


def _close_gently(sock: ssl.SSLSocket) -> None:
    """Close after the TLS alert is out: read what the client still sends (TLS 1.3 clients send
    data before they learn their certificate was refused), since closing with unread data sends
    a reset that can overtake the alert."""
    try:
        sock.shutdown(socket.SHUT_WR)  # also drops the TLS layer: plain reads from here on
        sock.settimeout(1)
        while sock.recv(65536):
            pass
    except OSError:
        pass
    sock.close()


class _Connection:
    """One client connection: h2 state, delayed answers, the drop rule, the statistics."""

    def __init__(self, peer: ApnsPeer, sock: ssl.SSLSocket, number: int, der: bytes):
        self.peer, self.sock, self.number = peer, sock, number
        certificate = x509.load_der_x509_certificate(der)
        uid = certificate.subject.get_attributes_for_oid(NameOID.USER_ID)
        self.topic = uid[0].value if uid else ""
        pem = certificate.public_bytes(serialization.Encoding.PEM)
        self.fingerprint = hashlib.sha256(pem).hexdigest()
        self.h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding=None)
        )
        self.h2.local_settings = h2.settings.Settings(
            client=False,
            initial_values={
                h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: peer.max_concurrent_streams,
                h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE: 65536,
            },
        )
        self.streams: dict[int, list] = {}  # stream id -> [headers, body]
        self.due: list[tuple[float, int, int, str]] = []  # heap of (when, stream, status, reason)
        self.open = self.answered = 0
        self.first_answered = False
        self.max_open_before_first = 0
        drop = peer.drop_connections
        self.drop_after = peer.drop_after if drop is None or number <= drop else None

    def run(self):
        self.h2.initiate_connection()
        self.sock.sendall(self.h2.data_to_send())
        try:
            while not self.peer._stopping:
                timeout = max(0.0, self.due[0][0] - time.monotonic()) if self.due else 0.2
                timeout = min(timeout, 0.2)
                try:
                    readable = self.sock.pending() or select.select([self.sock], [], [], timeout)[0]
                except (OSError, ValueError):  # closed by stop() meanwhile
                    return
                if readable:
                    data = self._read()
                    if not data:
                        return
                    for event in self.h2.receive_data(data):
                        self._event(event)
                self._answer_due()
                out = self.h2.data_to_send()
                if out:
                    self.sock.sendall(out)
                if self.drop_after is not None and self.answered >= self.drop_after:
                    return  # closes the TCP connection with requests still unanswered
        finally:
            if not self.first_answered and self.max_open_before_first:
                self._record_first()

    def _read(self) -> bytes:
        """All that has arrived (a TLS read returns one record), so that requests sent
        together are seen together, as concurrent streams."""
        try:
            chunks = [self.sock.recv(65536)]
        except (OSError, ValueError):  # closed by stop() meanwhile
            return b""
        size = len(chunks[0])
        while chunks[-1] and size < 1 << 20:
            try:
                if not (self.sock.pending() or select.select([self.sock], [], [], 0)[0]):
                    break
                chunks.append(self.sock.recv(65536))
            except (OSError, ValueError):  # closed by stop() meanwhile: what arrived is all
                break
            size += len(chunks[-1])
        return b"".join(chunks)

    def _event(self, event):
        if isinstance(event, h2.events.RequestReceived):
            self.streams[event.stream_id] = [dict(event.headers), bytearray()]
            self.open += 1
            self.peer.max_open = max(self.peer.max_open, self.open)
            if not self.first_answered:
                self.max_open_before_first = max(self.max_open_before_first, self.open)
        elif isinstance(event, h2.events.DataReceived):
            self.streams[event.stream_id][1] += event.data
            self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            status, reason = self._request(event.stream_id)
            due = time.monotonic() + self.peer.delay
            heapq.heappush(self.due, (due, event.stream_id, status, reason))
        elif isinstance(event, h2.events.StreamReset) and self.streams.pop(event.stream_id, None):
            self.open -= 1

    def _request(self, stream_id: int) -> tuple[int, str]:
        """Check the request like APNs does; return the answer to give."""
        headers, body = self.streams.pop(stream_id)
        path = PATH.fullmatch(headers.get(b":path", b""))
        token = path.group(1).decode() if path else ""
        topic = headers.get(b"apns-topic", b"").decode()
        self.peer.requests.append(
            Request(
                token,
                topic,
                self.fingerprint,
                self.number,
                {k.decode(): v.decode() for k, v in headers.items()},
                bytes(body),
            )
        )
        problem = self._problem(headers, bytes(body), path is not None, topic)
        if problem:
            self.peer.errors.append(f"{problem}: {headers!r} {bytes(body)!r}")
            return (404 if problem == "BadPath" else 400), problem
        return self.peer._answer(token)

    def _problem(self, headers: dict, body: bytes, path_ok: bool, topic: str) -> str:
        if headers.get(b":method") != b"POST":
            return "MethodNotAllowed"
        if not path_ok:
            return "BadPath"
        if not topic:
            return "MissingTopic"
        if topic != self.topic:
            return "BadTopic"
        if headers.get(b"apns-push-type") != b"mdm":
            return "BadPushType"
        if headers.get(b"apns-priority") != b"10":
            return "BadPriority"
        if not headers.get(b"apns-expiration", b"").isdigit():
            return "BadExpirationDate"
        if headers.get(b"content-type") != b"application/json":
            return "BadContentType"
        try:
            payload = json.loads(body)
        except ValueError:
            return "PayloadEmpty"
        if not isinstance(payload, dict) or list(payload) != ["mdm"]:
            return "BadPayload"
        if not isinstance(payload["mdm"], str) or body != json.dumps(
            payload, separators=(",", ":")
        ).encode("utf-8"):
            return "BadPayload"
        return ""

    def _answer_due(self):
        now = time.monotonic()
        while self.due and self.due[0][0] <= now:
            if self.drop_after is not None and self.answered >= self.drop_after:
                return
            _, stream_id, status, reason = heapq.heappop(self.due)
            if not self.first_answered:
                self.first_answered = True
                self._record_first()
            headers = [(b":status", str(status).encode()), (b"apns-id", str(uuid.uuid4()).encode())]
            if status in (429, 500, 503) and self.peer.retry_after:
                headers.append((b"retry-after", self.peer.retry_after.encode()))
            if status == 200:
                self.h2.send_headers(stream_id, headers, end_stream=True)
            else:
                body = json.dumps({"reason": reason}).encode()
                headers.append((b"content-type", b"application/json"))
                self.h2.send_headers(stream_id, headers)
                self.h2.send_data(stream_id, body, end_stream=True)
            self.open -= 1
            self.answered += 1

    def _record_first(self):
        with self.peer._lock:
            self.peer.first_answer_concurrency.append(self.max_open_before_first)
