"""The APNs MDM push client: many pushes over one long-lived HTTP/2 connection per certificate.

libcurl's multi interface (pycurl) multiplexes the pushes as streams of one TLS connection, with
the push certificate and key handed to libcurl as in-memory blobs (no key files on disk). Each
process keeps one connection per (base URL, topic); a changed certificate fingerprint (renewal)
builds a new one on the next ``send``. Every ``send`` starts with one push alone and multiplexes
the rest only after its answer, as Apple asks for new connections (libcurl may have replaced an
idle connection without telling us, so we do it on every call; it costs one round trip).
"""

import contextlib
import gc
import json
import logging
import os
import ssl
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import pycurl
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings

from .errors import ApnsError, Outcome, classify, classify_transport

log = logging.getLogger(__name__)

# Connections idle longer than this are replaced by libcurl (its default is 118 s); Apple
# prefers long-lived connections, TCP keepalive keeps NAT mappings open meanwhile.
MAX_IDLE_SECONDS = 1800
CONNECT_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Push:
    token: bytes  # device token from TokenUpdate
    push_magic: str
    ref: object = None  # opaque for us, handed back in the result


@dataclass(frozen=True)
class PushResult:
    push: Push
    outcome: Outcome
    status: int | None  # HTTP status, None when there was no answer
    reason: str  # APNs "reason", or a short transport error text
    apns_id: str = ""
    retry_after: float | None = None  # seconds, from Retry-After


def send(
    identity,
    pushes: Sequence[Push],
    *,
    base_url: str | None = None,
    expiration: int | None = None,
    concurrency: int | None = None,
    timeout: float = 10.0,
    ca_file: str | None = None,
) -> list[PushResult]:
    """Push every ``pushes`` item with ``identity`` (a ``PushIdentity``); one result each, in order.

    ``expiration`` is seconds from now for ``apns-expiration`` (``APNS_EXPIRATION_SECONDS``;
    0 = deliver now or drop); ``concurrency`` caps the streams in flight (``APNS_CONCURRENCY``,
    and never more than the server allows); ``timeout`` is per push; ``ca_file`` is the CA
    bundle that verifies the server (``APNS_CA_FILE``; unset = the system's trust store).
    Raises ``ApnsError`` only for unusable arguments, never for a push that fails.
    """
    pushes = list(pushes)
    base_url = (base_url or settings.APNS_BASE_URL).rstrip("/")
    if not base_url.startswith("https://"):
        raise ApnsError(f"APNs base URL must be https: {base_url!r}")
    if expiration is None:
        expiration = settings.APNS_EXPIRATION_SECONDS
    concurrency = concurrency or settings.APNS_CONCURRENCY
    if concurrency < 1 or timeout <= 0:
        raise ApnsError("concurrency and timeout must be positive")
    ca_file = ca_file or getattr(settings, "APNS_CA_FILE", None) or None
    for push in pushes:
        if not isinstance(push.token, bytes | bytearray) or not isinstance(push.push_magic, str):
            raise ApnsError(f"Push needs token bytes and a push_magic str: {push!r}")
    if not pushes:
        return []
    slot = _slot(base_url, identity.topic)
    with slot.lock, _gc_paused():
        return slot.send(identity, pushes, base_url, expiration, concurrency, timeout, ca_file)


@contextlib.contextmanager
def _gc_paused():
    """No cyclic GC runs while a batch creates its results (they make no cycles): at 100,000
    pushes the collector's passes over the growing result list cost several percent."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def close_connections() -> None:
    """Drop every cached connection of this process (tests, shutdown)."""
    with _cache_lock:
        slots = list(_cache.values())
    for slot in slots:
        with slot.lock:
            slot.drop()


class _Slot:
    """The cached connection of one (base URL, topic); its lock serialises ``send`` calls."""

    def __init__(self):
        self.lock = threading.Lock()
        self.connection: _Connection | None = None

    def drop(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def send(self, identity, pushes, base_url, expiration, concurrency, timeout, ca_file):
        connection = self.connection
        if connection is not None and (
            connection.fingerprint != identity.fingerprint or connection.ca_file != ca_file
        ):
            self.drop()  # renewed certificate (or other trust): reconnect with the new one
        headers = [
            f"apns-topic: {identity.topic}",
            "apns-push-type: mdm",
            "apns-priority: 10",
            f"apns-expiration: {int(time.time()) + expiration if expiration else 0}",
            "content-type: application/json",
            "accept:",  # drop curl's default "accept: */*"
        ]
        results: list[PushResult | None] = [None] * len(pushes)
        todo = list(range(len(pushes)))
        for attempt in range(2):
            if self.connection is None:
                self.connection = _Connection(base_url, identity, ca_file)
            answered, broken = self.connection.run(
                pushes, todo, results, headers, concurrency, timeout
            )
            if not broken:
                break
            self.drop()  # rebuilt on the next attempt or call
            # One immediate reconnect for pushes without an answer, but only when the lost
            # connection had worked (a server that refuses connections is not hammered).
            todo = [i for i in todo if results[i].status is None]
            todo = [i for i in todo if results[i].outcome is Outcome.RETRY]
            if not answered or not todo or attempt:
                break
            log.info("APNs connection lost, resending %d pushes on a new one", len(todo))
        _log_failures(results)
        return results


class _Connection:
    """A libcurl multi handle holding one HTTP/2 connection, plus reusable easy handles."""

    def __init__(self, base_url: str, identity, ca_file: str | None):
        self.certificate_pem, self.key_pem = _checked_identity(identity)
        self.fingerprint = identity.fingerprint
        self.ca_file = ca_file
        self.url_prefix = f"{base_url}/3/device/"
        self.multi = pycurl.CurlMulti()
        self.multi.setopt(pycurl.M_PIPELINING, pycurl.PIPE_MULTIPLEX)
        # Never more than one connection: further pushes wait for a stream on it.
        self.multi.setopt(pycurl.M_MAX_HOST_CONNECTIONS, 1)
        self.multi.setopt(pycurl.M_MAX_TOTAL_CONNECTIONS, 1)
        self.free: list[_Handle] = []
        self.handles: list[_Handle] = []

    def close(self):
        for handle in self.handles:
            handle.curl.close()
        self.handles, self.free = [], []
        self.multi.close()

    def _new_handle(self, timeout: float) -> "_Handle":
        c = pycurl.Curl()
        c.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_2TLS)
        c.setopt(pycurl.PIPEWAIT, 1)  # wait for the connection to multiplex, don't open another
        c.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTPS)
        c.setopt(pycurl.SSLVERSION, pycurl.SSLVERSION_TLSv1_2)
        c.setopt(pycurl.SSLCERT_BLOB, self.certificate_pem)
        c.setopt(pycurl.SSLCERTTYPE, "PEM")
        c.setopt(pycurl.SSLKEY_BLOB, self.key_pem)
        c.setopt(pycurl.SSLKEYTYPE, "PEM")
        c.setopt(pycurl.SSL_VERIFYPEER, 1)
        c.setopt(pycurl.SSL_VERIFYHOST, 2)
        cafile, capath = _trust(self.ca_file)
        if cafile:
            c.setopt(pycurl.CAINFO, cafile)
        if capath:
            c.setopt(pycurl.CAPATH, capath)
        c.setopt(pycurl.NOSIGNAL, 1)
        c.setopt(pycurl.CONNECTTIMEOUT_MS, int(min(timeout, CONNECT_TIMEOUT_SECONDS) * 1000))
        c.setopt(pycurl.TCP_KEEPALIVE, 1)
        c.setopt(pycurl.MAXAGE_CONN, MAX_IDLE_SECONDS)
        handle = _Handle(c)
        c.setopt(pycurl.WRITEFUNCTION, handle.body.append)
        c.setopt(pycurl.HEADERFUNCTION, handle.header_lines.append)
        self.handles.append(handle)
        return handle

    def run(self, pushes, todo, results, headers, concurrency, timeout) -> tuple[bool, bool]:
        """Send ``pushes[i]`` for i in ``todo`` and fill ``results[i]``.

        Returns (any HTTP answer arrived, the connection is broken and must be dropped).
        """
        multi, free, prefix = self.multi, self.free, self.url_prefix
        add_handle, remove_handle = multi.add_handle, multi.remove_handle
        multi.setopt(pycurl.M_MAX_CONCURRENT_STREAMS, concurrency)
        call = object()  # marks handles whose per-call options are set
        timeout_ms = int(timeout * 1000)
        limit = 1  # the first push goes alone; the rest once it is answered
        position = 0
        active: dict[pycurl.Curl, _Handle] = {}
        answered = broken = False
        stop: tuple[Outcome, str] | None = None  # why the pushes not yet sent are not sent
        while True:
            while len(active) < limit and position < len(todo) and stop is None:
                handle = free.pop() if free else self._new_handle(timeout)
                c = handle.curl
                if handle.call is not call:
                    c.setopt(pycurl.HTTPHEADER, headers)
                    c.setopt(pycurl.TIMEOUT_MS, timeout_ms)
                    handle.call = call
                i = handle.index = todo[position]
                position += 1
                push = pushes[i]
                setopt = c.setopt
                setopt(_URL, prefix + push.token.hex())
                setopt(_POSTFIELDS, _body(push.push_magic))
                add_handle(c)
                active[c] = handle
            if not active:
                break
            while multi.perform()[0] == pycurl.E_CALL_MULTI_PERFORM:
                pass
            finished = 0
            while True:
                queued, done, failed = multi.info_read()
                finished += len(done) + len(failed)
                for c in done:
                    remove_handle(c)
                    handle = active.pop(c)
                    result = results[handle.index] = _answer(pushes[handle.index], handle)
                    if result.outcome is not Outcome.OK:
                        if result.status is None:
                            broken = True
                            stop = stop or (Outcome.RETRY, result.reason)
                        elif result.outcome is Outcome.CERTIFICATE and stop is None:
                            stop = (Outcome.CERTIFICATE, result.reason)
                    if result.status is not None:
                        answered = True
                        limit = concurrency
                    handle.reset(free)
                for c, errno, message in failed:
                    multi.remove_handle(c)
                    handle = active.pop(c)
                    outcome = classify_transport(errno, message)
                    reason = message or f"curl error {errno}"
                    results[handle.index] = PushResult(pushes[handle.index], outcome, None, reason)
                    # Stop feeding a connection that failed; a certificate refusal holds for
                    # every push, anything else is retried by the caller (or resent once).
                    broken = True
                    if stop is None or outcome is Outcome.CERTIFICATE:
                        stop = (outcome, reason)
                    handle.reset(free)
                if not queued:
                    break
            if broken:
                # Abandon what is still in flight rather than let libcurl retry it on a new
                # connection of its own (which would not start with one stream alone).
                outcome, reason = stop
                for c, handle in active.items():
                    multi.remove_handle(c)
                    results[handle.index] = PushResult(pushes[handle.index], outcome, None, reason)
                    handle.reset(free)
                active.clear()
                break
            if finished and position < len(todo) and stop is None:
                continue  # refill the freed streams at once; waiting first halves the pipeline
            if active:
                wait = multi.timeout()
                multi.select(0.1 if wait < 0 else min(wait, 100) / 1000)
        if stop is not None:
            outcome, reason = stop
            for i in todo[position:]:
                results[i] = PushResult(pushes[i], outcome, None, f"not sent: {reason}")
        return answered, broken


class _Handle:
    """An easy handle and what it collects (attributes on pycurl objects are slow)."""

    __slots__ = ("curl", "body", "header_lines", "index", "call")

    def __init__(self, curl: pycurl.Curl):
        self.curl, self.body, self.header_lines = curl, [], []
        self.index: int = -1
        self.call: object = None

    def reset(self, free: list) -> None:
        self.body.clear()
        self.header_lines.clear()
        free.append(self)


def _body(push_magic: str) -> bytes:
    if (
        push_magic.isascii()
        and push_magic.isprintable()
        and '"' not in push_magic
        and "\\" not in push_magic
    ):
        return b'{"mdm":"' + push_magic.encode() + b'"}'  # the usual UUID: nothing to escape
    return b'{"mdm":' + json.dumps(push_magic).encode() + b"}"


_URL, _POSTFIELDS, _RESPONSE_CODE = pycurl.URL, pycurl.POSTFIELDS, pycurl.RESPONSE_CODE


def _answer(push: Push, handle: _Handle) -> PushResult:
    status = handle.curl.getinfo(_RESPONSE_CODE)
    if status == 200:  # the usual answer: only its apns-id (HTTP/2 header names are lowercase)
        for line in handle.header_lines:
            if line.startswith(b"apns-id:"):
                return _ok(push, line[8:].strip().decode("ascii", "replace"))
        return _ok(push, "")
    apns_id, retry_after = "", None
    for line in handle.header_lines:
        if line[:1] in b"aArR":  # only apns-id and retry-after matter
            name, _, value = line.partition(b":")
            name = name.lower()
            if name == b"apns-id":
                apns_id = value.strip().decode("ascii", "replace")
            elif name == b"retry-after":
                retry_after = _retry_after(value.strip().decode("ascii", "replace"))
    if not status:
        return PushResult(push, Outcome.RETRY, None, "no HTTP answer", apns_id)
    reason = _reason(b"".join(handle.body))
    return PushResult(push, classify(status, reason), status, reason, apns_id, retry_after)


def _ok(push: Push, apns_id: str) -> PushResult:
    # The frozen dataclass's __init__ sets each field through object.__setattr__; filling the
    # instance's dict at once costs a third of that, for the 100,000s of answers of a batch.
    result = _new(PushResult)
    result.__dict__.update(
        push=push, outcome=Outcome.OK, status=200, reason="", apns_id=apns_id, retry_after=None
    )
    return result


_new = object.__new__


def _reason(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body[:200].decode("utf-8", "replace")
    reason = data.get("reason") if isinstance(data, dict) else None
    return reason if isinstance(reason, str) else ""


def _retry_after(value: str) -> float | None:
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


def _log_failures(results: list[PushResult]) -> None:
    """One log line per kind of failure, not one per push."""
    kinds = Counter(
        (r.outcome, r.status, r.reason.removeprefix("not sent: "))
        for r in results
        if r.outcome is not Outcome.OK
    )
    for (outcome, status, reason), count in kinds.items():
        level = logging.WARNING if outcome is Outcome.FAILED else logging.INFO
        log.log(level, "APNs: %d pushes %s (%s %s)", count, outcome, status, reason)


def _checked_identity(identity) -> tuple[bytes, bytes]:
    """The identity's PEM certificate and key, or ApnsError if they are unusable."""
    try:
        certificate = x509.load_pem_x509_certificates(identity.certificate_pem)[0]
        key = serialization.load_pem_private_key(identity.private_key_pem, None)
    except (ValueError, TypeError, IndexError) as exc:
        raise ApnsError(f"unusable push identity for {identity.topic}: {exc}") from exc
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*spki) != certificate.public_key().public_bytes(*spki):
        raise ApnsError(f"push certificate and key of {identity.topic} do not match")
    return identity.certificate_pem, identity.private_key_pem


def _trust(ca_file: str | None) -> tuple[str | None, str | None]:
    """CA file and directory that verify the server: ``ca_file``, else the system's.

    Named explicitly because the pycurl wheel's built-in default path is its build host's.
    """
    if ca_file:
        return ca_file, None
    paths = ssl.get_default_verify_paths()
    cafile = paths.cafile if paths.cafile and os.path.exists(paths.cafile) else None
    capath = paths.capath if paths.capath and os.path.isdir(paths.capath) else None
    return cafile, capath


_cache: dict[tuple[str, str], _Slot] = {}
_cache_lock = threading.Lock()
_abandoned: list[_Slot] = []


def _slot(base_url: str, topic: str) -> _Slot:
    with _cache_lock:
        slot = _cache.get((base_url, topic))
        if slot is None:
            slot = _cache[(base_url, topic)] = _Slot()
        return slot


def _forget_after_fork():
    # A forked child (Celery prefork) must not use or close the parent's sockets: keep the
    # inherited handles referenced and unused, and connect anew.
    global _cache_lock
    _abandoned.extend(_cache.values())
    _cache.clear()
    _cache_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)
