"""Placeholder of the APNs client API (replaced by the real client)."""

import enum
import random
from dataclasses import dataclass


class ApnsError(Exception):
    pass


@dataclass(frozen=True)
class Push:
    token: bytes
    push_magic: str
    ref: object = None


class Outcome(enum.StrEnum):
    OK = "ok"
    TOKEN_INVALID = "token_invalid"
    CERTIFICATE = "certificate"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True)
class PushResult:
    push: Push
    outcome: Outcome
    status: int | None
    reason: str
    apns_id: str = ""
    retry_after: float | None = None


def backoff_seconds(attempt: int, *, base: float = 1.0, cap: float = 300.0) -> float:
    return random.uniform(0, min(cap, base * 2**attempt))


def send(identity, pushes, **kwargs):
    return [PushResult(p, Outcome.RETRY, None, "no client") for p in pushes]
