"""What an APNs answer means for the caller: the one classification table, and backoff.

Every branch elsewhere is on ``Outcome``; reason texts are only read here. The table follows
Apple's APNs reference (see shared/reference/adue-protocol.md, 5.2): a status alone decides
for 200, 403, 410, 429 and 5xx; a 400 depends on its reason.
"""

import enum
import random
import re


class ApnsError(Exception):
    """A programming or configuration error (an unusable push identity, a bad argument).

    Problems of single pushes never raise; they come back as a ``PushResult``.
    """


class Outcome(enum.StrEnum):
    OK = "ok"
    TOKEN_INVALID = "token_invalid"  # the device must send a new TokenUpdate first
    CERTIFICATE = "certificate"  # the push certificate is refused: renew it, stop pushing
    RETRY = "retry"  # transient: back off and push again
    FAILED = "failed"  # a request bug or something unknown: logged, not retried


# Reasons APNs gives (JSON "reason").
BAD_DEVICE_TOKEN = "BadDeviceToken"
DEVICE_TOKEN_NOT_FOR_TOPIC = "DeviceTokenNotForTopic"
UNREGISTERED = "Unregistered"
EXPIRED_TOKEN = "ExpiredToken"
BAD_CERTIFICATE = "BadCertificate"
BAD_CERTIFICATE_ENVIRONMENT = "BadCertificateEnvironment"
FORBIDDEN = "Forbidden"
TOO_MANY_REQUESTS = "TooManyRequests"
INTERNAL_SERVER_ERROR = "InternalServerError"
SERVICE_UNAVAILABLE = "ServiceUnavailable"
SHUTDOWN = "Shutdown"

# (status, reason) -> outcome; reason None matches any reason of that status.
CLASSIFICATION: dict[tuple[int, str | None], Outcome] = {
    (200, None): Outcome.OK,
    (400, BAD_DEVICE_TOKEN): Outcome.TOKEN_INVALID,
    (400, DEVICE_TOKEN_NOT_FOR_TOPIC): Outcome.TOKEN_INVALID,
    (410, None): Outcome.TOKEN_INVALID,  # Unregistered, ExpiredToken
    (403, None): Outcome.CERTIFICATE,  # BadCertificate, BadCertificateEnvironment, Forbidden
    (429, None): Outcome.RETRY,
    (500, None): Outcome.RETRY,
    (503, None): Outcome.RETRY,
}

# A TLS alert from the server about our client certificate (handshake refused): the push
# certificate is the problem, exactly like a 403. Matched against libcurl's error text.
CLIENT_CERTIFICATE_REFUSED = re.compile(
    r"alert (bad certificate|unknown ca|certificate (required|unknown|revoked|expired|"
    r"unsupported)|unsupported certificate|access denied|handshake failure)",
    re.IGNORECASE,
)

# libcurl error numbers (CURLE_*) that are not transient.
CURLE_SSL_CERTPROBLEM = 58  # our certificate/key could not be used by libcurl
CURLE_PEER_FAILED_VERIFICATION = 60  # the server's certificate is not trusted (config, MITM)
CURLE_SSL_CACERT_BADFILE = 77
TRANSPORT_CLASSIFICATION: dict[int, Outcome] = {
    CURLE_SSL_CERTPROBLEM: Outcome.CERTIFICATE,
    CURLE_PEER_FAILED_VERIFICATION: Outcome.FAILED,
    CURLE_SSL_CACERT_BADFILE: Outcome.FAILED,
}


def classify(status: int, reason: str) -> Outcome:
    """The outcome of an HTTP answer from APNs."""
    outcome = CLASSIFICATION.get((status, reason)) or CLASSIFICATION.get((status, None))
    return outcome or Outcome.FAILED


def classify_transport(curl_errno: int, message: str) -> Outcome:
    """The outcome of a push that got no HTTP answer (libcurl error number and text).

    Connection loss, GOAWAY, resets and timeouts are transient; a TLS refusal of our client
    certificate is a certificate problem.
    """
    if CLIENT_CERTIFICATE_REFUSED.search(message):
        return Outcome.CERTIFICATE
    return TRANSPORT_CLASSIFICATION.get(curl_errno, Outcome.RETRY)


def backoff_seconds(attempt: int, *, base: float = 1.0, cap: float = 300.0) -> float:
    """Seconds to wait before retry ``attempt`` (0 = first retry): exponential, full jitter.

    Uniform in [0, min(cap, base * 2**attempt)], so many devices retried together spread out.
    """
    if attempt < 0:
        raise ValueError("attempt must be >= 0")
    ceiling = min(cap, base * 2 ** min(attempt, 62))
    return random.uniform(0.0, ceiling)
