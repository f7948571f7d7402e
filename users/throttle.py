"""A small sliding-window throttle on the Django cache (Redis in production).

Used for admin sign-in and the enrollment web login: failures are counted per key and a
key is locked while it has ``limit`` failures within ``window`` seconds.
"""

import hashlib
import time

from django.core.cache import cache


class Throttle:
    def __init__(self, scope: str, *, limit: int, window: int):
        self.scope, self.limit, self.window = scope, limit, window

    def _key(self, *parts: str) -> str:
        digest = hashlib.sha256("\x00".join(p.lower() for p in parts).encode()).hexdigest()
        return f"throttle:{self.scope}:{digest}"

    def _recent(self, key: str, now: float) -> list[float]:
        return [t for t in cache.get(key, []) if now - t < self.window]

    def is_locked(self, *parts: str) -> bool:
        return len(self._recent(self._key(*parts), time.time())) >= self.limit

    def retry_after(self, *parts: str) -> int:
        now = time.time()
        recent = self._recent(self._key(*parts), now)
        if len(recent) < self.limit:
            return 0
        return max(1, int(self.window - (now - min(recent))))

    def failure(self, *parts: str) -> None:
        key, now = self._key(*parts), time.time()
        cache.set(key, [*self._recent(key, now), now], self.window)

    def reset(self, *parts: str) -> None:
        cache.delete(self._key(*parts))


def client_ip(request) -> str:
    """The client's address for throttling. Behind ``TRUSTED_PROXY_COUNT`` proxies it is the
    entry those proxies appended to X-Forwarded-For (anything before it the client can forge);
    without proxies it is the socket's peer."""
    from django.conf import settings

    trusted = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if trusted and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= trusted:
            return hops[-trusted]
    return request.META.get("REMOTE_ADDR", "")
