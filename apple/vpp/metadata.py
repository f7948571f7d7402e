"""App metadata (name, bundle id, icon, version, platforms) from Apple's content metadata
lookup (``VPP_METADATA_BASE_URL``; adue-protocol.md §7.2: ``p=mdm-lockup``, the token as the
``itvt`` cookie), cached for every process.

The catalogue never depends on it: when the lookup fails the app is kept with its adamId alone
and the lookup is tried again later. The answer's shape is read defensively (keys at the top
or per platform under ``platformAttributes``), since Apple documents it only by example.
"""

import logging

import httpx
from django.conf import settings
from django.core.cache import cache

log = logging.getLogger("apple.vpp")
CACHE_FOR = 24 * 3600
ICON_SIZE = 256
MAX_IDS = 50  # adamIds per request


def _cache_key(country: str, adam_id: str) -> str:
    return f"apple:vpp:metadata:{country}:{adam_id}"


def _icon(artwork) -> str:
    if not isinstance(artwork, dict) or not isinstance(artwork.get("url"), str):
        return ""
    url = artwork["url"]
    for key, value in (("{w}", ICON_SIZE), ("{h}", ICON_SIZE), ("{c}", "bb"), ("{f}", "png")):
        url = url.replace(key, str(value))
    return url if url.startswith("https://") else ""


def parse(item: dict) -> dict:
    """Our fields from one result of the lookup (missing ones empty)."""
    platforms = item.get("platformAttributes")
    platforms = platforms if isinstance(platforms, dict) else {}
    first = next((p for p in platforms.values() if isinstance(p, dict)), {})
    version = first.get("latestVersionInfo") if isinstance(first, dict) else None
    offers = item.get("offers") if isinstance(item.get("offers"), list) else []
    offer_version = offers[0].get("version") if offers and isinstance(offers[0], dict) else None
    families = item.get("deviceFamilies")
    return {
        "name": str(item.get("name") or "")[:255],
        "bundle_id": str(item.get("bundleId") or first.get("bundleId") or "")[:255],
        "icon_url": _icon(item.get("artwork") or first.get("artwork"))[:500],
        "version": str(
            (version or {}).get("versionDisplay")
            or (offer_version or {}).get("display")
            or item.get("version")
            or ""
        )[:64],
        "platforms": sorted(
            str(f) for f in (families if isinstance(families, list) else list(platforms))
        ),
    }


def lookup(adam_ids, *, token_text: str = "", country: str = "") -> dict[str, dict]:
    """adamId -> metadata for the ids Apple knows; ids it does not know, or all of them when
    the lookup fails, are missing from the answer (never an exception)."""
    country = (country or "US").upper()
    found, wanted = {}, []
    for adam_id in dict.fromkeys(str(a) for a in adam_ids):
        cached = cache.get(_cache_key(country, adam_id))
        if cached is not None:
            found[adam_id] = cached
        else:
            wanted.append(adam_id)
    cookies = {"itvt": token_text.strip()} if token_text.strip() else None
    for start in range(0, len(wanted), MAX_IDS):
        chunk = wanted[start : start + MAX_IDS]
        params = {
            "version": "2",
            "p": "mdm-lockup",
            "caller": "MDM",
            "platform": "volumestore",
            "cc": country.lower(),
            "l": "en",
            "id": ",".join(chunk),
        }
        try:
            response = httpx.get(
                settings.VPP_METADATA_BASE_URL, params=params, cookies=cookies, timeout=10.0
            )
            response.raise_for_status()
            results = response.json().get("results")
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            log.warning("app metadata lookup failed: %s", exc)
            continue
        for adam_id in chunk:
            item = results.get(adam_id) if isinstance(results, dict) else None
            if isinstance(item, dict):
                found[adam_id] = parse(item)
                cache.set(_cache_key(country, adam_id), found[adam_id], CACHE_FOR)
    return found
