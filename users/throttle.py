"""A small throttle on the Django cache (Redis in production).

Used for admin sign-in and the enrollment web login: failures are counted per key and a key is
locked once it has ``limit`` failures within ``window`` seconds of its first counted failure;
the lock then lasts ``window`` seconds from the failure that reached the limit.

Counting is atomic (``cache.add`` + ``cache.incr``, both atomic on Redis and on the local
memory cache): concurrent failures are all counted. Keys are used as given: callers pass the
identity the way the login resolves it (``admin_login_key``, the enrollment login's canonical
user), so spelling variants of one account share one counter.
"""

import hashlib
import time
import unicodedata

from django.core.cache import cache


class Throttle:
    def __init__(self, scope: str, *, limit: int, window: int):
        self.scope, self.limit, self.window = scope, limit, window

    def _key(self, *parts: str) -> str:
        digest = hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
        return f"throttle:{self.scope}:{digest}"

    def _count(self, key: str) -> int:
        return int(cache.get(f"{key}:n") or 0)

    def count(self, *parts: str) -> int:
        return self._count(self._key(*parts))

    def is_locked(self, *parts: str) -> bool:
        key = self._key(*parts)
        return cache.get(f"{key}:lock") is not None or self._count(key) >= self.limit

    def retry_after(self, *parts: str) -> int:
        key = self._key(*parts)
        until = cache.get(f"{key}:lock")
        if until is None:
            return self.window if self._count(key) >= self.limit else 0
        return max(1, int(until - time.time()))

    def failure(self, *parts: str) -> int:
        """Count one failure; returns the count within the current window."""
        key = self._key(*parts)
        cache.add(f"{key}:n", 0, self.window)
        try:
            count = cache.incr(f"{key}:n")
        except ValueError:  # expired between add and incr: this failure starts a new window
            cache.add(f"{key}:n", 0, self.window)
            count = cache.incr(f"{key}:n")
        if count >= self.limit:
            cache.set(f"{key}:lock", time.time() + self.window, self.window)
        return count

    def reset(self, *parts: str) -> None:
        key = self._key(*parts)
        cache.delete_many([f"{key}:n", f"{key}:lock"])


def admin_login_key(raw_username: str) -> str:
    """The username exactly as Django's sign-in form hands it to the backend (strip, then
    NFKC, as ``UsernameField``); the lookup is case-sensitive, so case is kept."""
    from django.contrib.auth.forms import UsernameField

    return UsernameField().to_python(raw_username or "") or ""


def fold(identifier: str) -> str:
    """Case-insensitive lookups (``iexact``): NFKC, then case folded."""
    return unicodedata.normalize("NFKC", identifier.strip()).casefold()


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
