"""APNs MDM pushes: ``send(identity, [Push(token, push_magic, ref), ...]) -> [PushResult]``.

Which devices to push, and what to do with each ``Outcome`` (retry with ``backoff_seconds``,
mark tokens invalid, alert about the certificate), is the caller's business.
"""

from .client import Push, PushResult, close_connections, send
from .errors import ApnsError, Outcome, backoff_seconds

__all__ = [
    "ApnsError",
    "Outcome",
    "Push",
    "PushResult",
    "backoff_seconds",
    "close_connections",
    "send",
]
