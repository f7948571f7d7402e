"""The APNs push client against a real local HTTP/2 TLS peer (tests/apple/apns_peer.py)."""

import datetime as dt
import json
import os
import socket
import time
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from apple import x509util
from apple.apns import ApnsError, Outcome, Push, backoff_seconds, close_connections, send
from apple.apns import errors as apns_errors
from apple.push_identity import PushIdentity, current_push_identity, install_demo_push_certificate
from tests.apple.apns_peer import ApnsPeer


def make_identity(topic: str | None = None) -> PushIdentity:
    """A self-signed push certificate with an MDM topic in its UID, like Apple's."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    topic = topic or f"com.apple.mgmt.External.{uuid.uuid4()}"
    subject = x509util.name(cn=f"APSP:{uuid.uuid4()}", USER_ID=topic, COUNTRY_NAME="US")
    certificate = x509util.self_signed(key, subject, days=30)
    return PushIdentity(
        tenant_id=1,
        topic=topic,
        certificate_pem=x509util.certificate_pem(certificate),
        private_key_pem=x509util.private_key_pem(key),
        not_after=certificate.not_valid_after_utc,
        is_demo=True,
    )


def pushes(count: int, start: int = 0) -> list[Push]:
    return [Push(os.urandom(32), str(uuid.uuid4()), ref=start + i) for i in range(count)]


def wait_for(condition, seconds: float = 2.0) -> bool:
    """The peer counts in its own threads, a moment after the client has its answer."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


@pytest.fixture(scope="module")
def identity():
    return make_identity()


@pytest.fixture
def make_peer(settings, identity):
    """Start peers that trust ``identity``; the client is pointed at the last one."""
    started = []

    def make(**options):
        options.setdefault("trusted", [identity.certificate_pem])
        peer = ApnsPeer(**options).start()
        settings.APNS_BASE_URL, settings.APNS_CA_FILE = peer.url, peer.ca_file
        started.append(peer)
        return peer

    yield make
    close_connections()
    for peer in started:
        peer.stop()


def test_ok_with_the_request_apns_expects(make_peer, identity, settings):
    peer = make_peer()
    settings.APNS_EXPIRATION_SECONDS = 3600
    batch = [Push(b"\x7e\xd0" * 16, 'magic "quoted" \\ é', ref="a"), *pushes(2)]
    results = send(identity, batch)

    assert [r.push for r in results] == batch  # same order, one each
    assert [(r.outcome, r.status, r.reason) for r in results] == [(Outcome.OK, 200, "")] * 3
    assert all(r.apns_id for r in results)
    assert peer.errors == []
    first = next(r for r in peer.requests if r.token == "7ed0" * 16)
    assert first.headers[":method"] == "POST"
    assert first.headers[":path"] == "/3/device/" + "7ed0" * 16
    assert first.topic == identity.topic
    assert first.fingerprint == identity.fingerprint
    assert first.headers["apns-push-type"] == "mdm"
    assert first.headers["apns-priority"] == "10"
    assert first.headers["content-type"] == "application/json"
    assert abs(int(first.headers["apns-expiration"]) - (time.time() + 3600)) < 60
    assert json.loads(first.body) == {"mdm": 'magic "quoted" \\ é'}
    assert first.body.startswith(b'{"mdm":"magic \\"quoted')


def test_answers_are_classified(make_peer, identity):
    batch = pushes(10)
    answers = [
        (200, ""),
        (400, "BadDeviceToken"),
        (400, "DeviceTokenNotForTopic"),
        (410, "Unregistered"),
        (410, "ExpiredToken"),
        (429, "TooManyRequests"),
        (500, "InternalServerError"),
        (503, "ServiceUnavailable"),
        (400, "BadCollapseId"),  # a reason we don't know: failed, logged
        (404, "BadPath"),
    ]
    peer = make_peer(
        responses={p.token.hex(): answer for p, answer in zip(batch, answers, strict=True)},
        retry_after="30",
    )
    results = send(identity, batch)
    assert [(r.status, r.reason) for r in results] == answers
    assert [r.outcome for r in results] == [
        Outcome.OK,
        Outcome.TOKEN_INVALID,
        Outcome.TOKEN_INVALID,
        Outcome.TOKEN_INVALID,
        Outcome.TOKEN_INVALID,
        Outcome.RETRY,
        Outcome.RETRY,
        Outcome.RETRY,
        Outcome.FAILED,
        Outcome.FAILED,
    ]
    assert [r.retry_after for r in results[5:8]] == [30.0] * 3
    assert results[0].retry_after is None
    assert peer.errors == []


def test_refused_certificate_stops_the_batch(make_peer, identity):
    peer = make_peer(default=(403, "BadCertificate"))
    results = send(identity, pushes(20))
    assert {r.outcome for r in results} == {Outcome.CERTIFICATE}
    assert (results[0].status, results[0].reason) == (403, "BadCertificate")
    assert all(r.status is None and "BadCertificate" in r.reason for r in results[1:])
    assert len(peer.requests) == 1  # the rest would be refused too


def test_tls_refusal_of_our_certificate_is_a_certificate_problem(make_peer, identity):
    peer = make_peer(trusted=[make_identity().certificate_pem])  # trusts someone else
    results = send(identity, pushes(5))
    assert {(r.outcome, r.status) for r in results} == {(Outcome.CERTIFICATE, None)}
    assert wait_for(lambda: peer.handshake_failures >= 1) and peer.requests == []


def test_untrusted_server_fails_without_disabling_verification(make_peer, identity, settings):
    peer = make_peer()
    settings.APNS_CA_FILE = None  # the system trust store does not know the peer
    results = send(identity, pushes(3))
    assert {(r.outcome, r.status) for r in results} == {(Outcome.FAILED, None)}
    assert "certificate" in results[0].reason.lower()
    assert peer.requests == []


def test_connection_refused_is_retried(identity):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nobody listens
    results = send(identity, pushes(3), base_url=f"https://127.0.0.1:{port}", timeout=2)
    assert {(r.outcome, r.status) for r in results} == {(Outcome.RETRY, None)}


def test_connection_lost_mid_batch_loses_nothing(make_peer, identity):
    peer = make_peer(drop_after=30)  # every connection dies after 30 answers
    batch = pushes(200)
    results = send(identity, batch)
    assert len(results) == 200 and [r.push for r in results] == batch
    ok = [r for r in results if r.outcome is Outcome.OK]
    retry = [r for r in results if r.outcome is Outcome.RETRY]
    assert len(ok) + len(retry) == 200
    assert all(r.status is None for r in retry)
    assert 1 <= len(ok) <= 60  # at most 30 per connection: the first and the one resend
    assert peer.connections == 2

    peer.drop_after = None
    again = send(identity, [r.push for r in retry])
    assert {r.outcome for r in again} == {Outcome.OK}
    assert peer.connections == 3  # the broken connection was rebuilt
    assert peer.first_answer_concurrency == [1, 1, 1]
    delivered = {r.push.token.hex() for r in ok + again}
    assert delivered == {p.token.hex() for p in batch}
    assert delivered <= {r.token for r in peer.requests}


def test_one_lost_connection_is_resent_at_once(make_peer, identity):
    peer = make_peer(drop_after=50, drop_connections=1)
    results = send(identity, pushes(300))
    assert {r.outcome for r in results} == {Outcome.OK}
    assert peer.connections == 2


def test_two_thousand_pushes_over_one_connection(make_peer, identity):
    peer = make_peer()
    results = send(identity, pushes(2000))
    assert {r.outcome for r in results} == {Outcome.OK}
    assert [r.push.ref for r in results] == list(range(2000))
    assert len(peer.requests) == 2000 and peer.errors == []
    assert peer.connections == 1
    assert peer.max_open > 1  # multiplexed
    send(identity, pushes(10))
    assert peer.connections == 1  # kept for the next call


def test_first_stream_on_a_new_connection_is_alone(make_peer, identity):
    peer = make_peer(delay=0.2)  # time for any extra stream to arrive before the answer
    results = send(identity, pushes(40), concurrency=40)
    assert {r.outcome for r in results} == {Outcome.OK}
    assert peer.first_answer_concurrency == [1]
    assert peer.max_open > 10


def test_server_stream_limit_is_respected(make_peer, identity):
    peer = make_peer(max_concurrent_streams=5, delay=0.01)
    results = send(identity, pushes(60))
    assert {r.outcome for r in results} == {Outcome.OK}
    assert peer.max_open <= 5 and peer.connections == 1


def test_renewed_certificate_is_used_without_restart(make_peer, identity):
    renewed = make_identity(topic=identity.topic)
    peer = make_peer(trusted=[identity.certificate_pem, renewed.certificate_pem])
    send(identity, pushes(5))
    results = send(renewed, pushes(5))
    assert {r.outcome for r in results} == {Outcome.OK}
    assert [r.fingerprint for r in peer.requests] == [identity.fingerprint] * 5 + [
        renewed.fingerprint
    ] * 5
    assert peer.connections == 2


def test_demo_push_certificate_of_a_tenant(make_peer, tenant):
    install_demo_push_certificate(tenant)
    identity = current_push_identity(tenant)
    peer = make_peer(trusted=[identity.certificate_pem])
    results = send(identity, pushes(3))
    assert {r.outcome for r in results} == {Outcome.OK}
    assert {r.topic for r in peer.requests} == {identity.topic}


def test_unusable_identity_raises(identity):
    other = make_identity()
    mismatched = PushIdentity(
        1, identity.topic, identity.certificate_pem, other.private_key_pem, identity.not_after, True
    )
    with pytest.raises(ApnsError, match="do not match"):
        send(mismatched, pushes(1), base_url="https://127.0.0.1:9")
    garbage = PushIdentity(
        1, "com.apple.mgmt.External.x", b"nope", b"nope", dt.datetime.now(dt.UTC), True
    )
    with pytest.raises(ApnsError):
        send(garbage, pushes(1), base_url="https://127.0.0.1:9")
    with pytest.raises(ApnsError):
        send(identity, [Push("abcd", "m")], base_url="https://127.0.0.1:9")
    with pytest.raises(ApnsError):
        send(identity, pushes(1), base_url="http://127.0.0.1:9")
    assert send(identity, [], base_url="https://127.0.0.1:9") == []


def test_classification_table_and_transport_errors():
    assert apns_errors.classify(403, "Forbidden") is Outcome.CERTIFICATE
    assert apns_errors.classify(403, "BadCertificateEnvironment") is Outcome.CERTIFICATE
    assert apns_errors.classify(418, "") is Outcome.FAILED
    refused = "OpenSSL SSL_read: error:0A000418:SSL routines::tlsv1 alert unknown ca, errno 0"
    assert apns_errors.classify_transport(56, refused) is Outcome.CERTIFICATE
    assert apns_errors.classify_transport(16, "HTTP/2 GOAWAY") is Outcome.RETRY
    assert apns_errors.classify_transport(28, "Operation timed out") is Outcome.RETRY


def test_backoff_has_full_jitter_and_a_cap():
    assert backoff_seconds(0) <= 1.0
    samples = [backoff_seconds(5, base=2.0) for _ in range(200)]
    assert all(0 <= s <= 64 for s in samples) and max(samples) > 32
    assert all(backoff_seconds(1000) <= 300.0 for _ in range(50))
    with pytest.raises(ValueError):
        backoff_seconds(-1)
