"""Apple's ``service/config``: request limits and the error-number table, cached.

Apple documents the values as dynamic and suggests re-reading them every few minutes; every
process shares one copy through Django's cache. When Apple cannot be reached, the documented
defaults keep batching and error messages working.
"""

from django.core.cache import cache

from .client import VppClient, VppError

CACHE_KEY = "apple:vpp:service-config"
FRESH_FOR = 5 * 60

# adue-protocol.md §7.2, used until Apple's own values are known.
DEFAULT_LIMITS = {
    "maxAssets": 25,
    "maxClientUserIds": 1000,
    "maxSerialNumbers": 1000,
    "maxUsers": 100,
}


def _fetch() -> dict:
    with VppClient("", max_retries=1, max_wait=5) as client:
        data = client.service_config()
    codes = {}
    for entry in data.get("errorCodes") or []:
        if isinstance(entry, dict) and "errorNumber" in entry:
            codes[str(entry["errorNumber"])] = str(entry.get("errorMessage", ""))
    limits = {k: v for k, v in (data.get("limits") or {}).items() if isinstance(v, int)}
    return {"limits": limits, "error_codes": codes}


def service_config(*, refresh: bool = False) -> dict:
    """``{"limits": {...}, "error_codes": {"9622": "...", ...}}``; empty parts if unreachable."""
    config = None if refresh else cache.get(CACHE_KEY)
    if config is None:
        try:
            config = _fetch()
        except VppError:
            return {"limits": {}, "error_codes": {}}  # not cached: try Apple again next time
        cache.set(CACHE_KEY, config, FRESH_FOR)
    return config


def limit(name: str) -> int:
    """A request limit such as ``maxUsers``, Apple's current value or the documented one."""
    return service_config()["limits"].get(name) or DEFAULT_LIMITS[name]


def error_message(number: int, default: str = "") -> str:
    return service_config()["error_codes"].get(str(number), default)


def batches(items: list, limit_name: str):
    """``items`` in slices Apple accepts in one request (e.g. users per ``users/create``)."""
    size = limit(limit_name)
    for start in range(0, len(items), size):
        yield items[start : start + size]
