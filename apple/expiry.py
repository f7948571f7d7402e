"""Expiry of Apple credentials (push certificate, Apps and Books token): status and warnings.

Both expire after a year and must be renewed in time; the portal shows the same four states
for both and mails tenant admins once per threshold before the date.
"""

import math
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

WARNING_DAYS = (30, 14, 7, 1)
EXPIRING_WITHIN_DAYS = 30


@dataclass(frozen=True)
class ExpiryStatus:
    code: str  # valid | expiring | expired | missing
    days_left: int | None

    @property
    def label(self):
        return {
            "valid": _("Valid"),
            "expiring": _("Expires soon"),
            "expired": _("Expired"),
            "missing": _("Missing"),
        }[self.code]

    @property
    def css(self) -> str:
        return {"valid": "ok", "expiring": "warn", "expired": "bad", "missing": "bad"}[self.code]


def days_left(not_after: datetime, now: datetime | None = None) -> int:
    seconds = (not_after - (now or timezone.now())).total_seconds()
    return math.ceil(seconds / 86400) if seconds > 0 else 0


def status(not_after: datetime | None, now: datetime | None = None) -> ExpiryStatus:
    if not_after is None:
        return ExpiryStatus("missing", None)
    now = now or timezone.now()
    if not_after <= now:
        return ExpiryStatus("expired", 0)
    left = days_left(not_after, now)
    return ExpiryStatus("expiring" if left <= EXPIRING_WITHIN_DAYS else "valid", left)


def due_warning(not_after: datetime, sent: list[int], now: datetime | None = None) -> int | None:
    """The threshold to mail about now, if any: the most urgent one reached and not yet sent.

    A portal that was down for a while sends one mail for the nearest threshold, not a burst.
    """
    left = days_left(not_after, now)
    if left <= 0:
        return None
    reached = [d for d in WARNING_DAYS if left <= d]
    if not reached:
        return None
    nearest = min(reached)
    return None if nearest in sent else nearest


def mark_sent(threshold: int, sent: list[int]) -> list[int]:
    """Every threshold at or above the one mailed counts as done."""
    return sorted({*sent, *(d for d in WARNING_DAYS if d >= threshold)}, reverse=True)
