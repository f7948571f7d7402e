"""Client of Apple's Apps and Books for Organizations API (``VPP_BASE_URL``, v2).

    client = VppClient(token_text)            # the whole base64 .vpptoken text
    client.client_config()                    # GET client/config
    client.claim(mdm_id, name, url, auth)     # POST client/config (our mdmInfo + webhook)
    client.service_config()                   # GET service/config (limits, error numbers)
    for asset in client.iter_assets(): ...    # GET assets, every page
    client.iter_users(), client.iter_assignments()
    client.create_users([...]), update_users, retire_users
    client.associate(assets, client_user_ids=[...]), disassociate(...)
    client.revoke(client_user_ids=[...])      # POST assets/revoke
    client.event_status(event_id)             # GET status

``service/config`` needs no token (``VppClient("")``); ``apple.vpp.service_config`` caches it.

Transient failures (429, 5xx, transport errors) are retried with backoff, honouring
``Retry-After``. Apple sometimes answers 200 with an ``errorNumber`` body: that is an error too.
Token problems raise ``VppTokenError`` with ``token_status`` (expired, invalid, revoked).
"""

import email.utils
import random
import time
from collections.abc import Iterator

import httpx
from django.conf import settings

TOKEN_ERRORS = {9621: "expired", 9622: "invalid", 9625: "revoked"}
MAX_RETRY_AFTER = 300.0


class VppError(Exception):
    def __init__(self, message: str, *, error_number: int | None = None, status: int | None = None):
        super().__init__(message)
        self.error_number, self.status = error_number, status


class VppTokenError(VppError):
    @property
    def token_status(self) -> str:
        return TOKEN_ERRORS.get(self.error_number, "invalid")


class DataChangedError(VppError):
    """The list changed (``versionId``) while it was read page by page; read again."""


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds Apple asks us to wait (delta seconds or an HTTP date), or None."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(parsed.timestamp() - time.time(), 0.0)


class VppClient:
    def __init__(
        self,
        token_text: str,
        *,
        base_url: str | None = None,
        max_retries: int = 4,
        backoff: float = 1.0,
        max_wait: float = MAX_RETRY_AFTER,
        sleep=time.sleep,
        timeout: float = 30.0,
    ):
        """``max_wait`` caps one pause between attempts: background tasks can wait minutes,
        a web request should give up after a few seconds and let the admin retry."""
        self.base_url = (base_url or settings.VPP_BASE_URL).rstrip("/")
        self.max_retries, self.backoff, self.sleep = max_retries, backoff, sleep
        self.max_wait = max_wait
        headers = {"User-Agent": "mdm-portal/1.0"}
        if token_text.strip():
            headers["Authorization"] = f"Bearer {token_text.strip()}"
        self.http = httpx.Client(timeout=timeout, headers=headers)

    def close(self):
        self.http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- transport ------------------------------------------------------------------------

    def _pause(self, attempt: int, asked: float | None) -> None:
        """Apple's Retry-After when given, else exponential backoff with jitter (so workers
        throttled together do not come back together)."""
        if asked is None:
            asked = self.backoff * 2**attempt * random.uniform(0.5, 1.0)
        if asked > self.max_wait:
            raise VppError(f"Apps and Books asks to wait {asked:.0f} s; try again later")
        self.sleep(asked)

    def _request(self, method: str, path: str, *, params=None, json=None) -> dict:
        url = f"{self.base_url}/{path}"
        for attempt in range(self.max_retries + 1):
            last = attempt == self.max_retries
            try:
                response = self.http.request(method, url, params=params, json=json)
            except httpx.TransportError as exc:
                if last:
                    raise VppError(f"Apps and Books is unreachable: {exc}") from exc
                self._pause(attempt, None)
                continue
            if response.status_code == 429 or response.status_code >= 500:
                if last:
                    raise VppError(
                        f"Apps and Books answered {response.status_code}",
                        status=response.status_code,
                    )
                self._pause(attempt, _retry_after(response))
                continue
            return self._body(response)
        raise AssertionError("unreachable")

    @staticmethod
    def _body(response: httpx.Response) -> dict:
        try:
            data = response.json()
        except ValueError as exc:
            raise VppError(
                f"Apps and Books answered {response.status_code} without JSON",
                status=response.status_code,
            ) from exc
        number = data.get("errorNumber") if isinstance(data, dict) else None
        if number is not None:
            cls = VppTokenError if number in TOKEN_ERRORS else VppError
            raise cls(
                f"{data.get('errorMessage') or 'error'} ({number})",
                error_number=number,
                status=response.status_code,
            )
        if response.status_code >= 400:
            raise VppError(
                f"Apps and Books answered {response.status_code}", status=response.status_code
            )
        return data

    def _pages(self, path: str, key: str, params: dict) -> Iterator[dict]:
        params = {k: v for k, v in params.items() if v is not None}
        page, version = 0, None
        while True:
            data = self._request("GET", path, params={**params, "pageIndex": page})
            if version is not None and data.get("versionId") != version:
                raise DataChangedError(f"{path} changed while being read")
            version = data.get("versionId")
            yield from data.get(key, [])
            next_page = data.get("nextPageIndex")
            if next_page is None or next_page == page:
                return
            page = next_page

    # --- endpoints ------------------------------------------------------------------------

    def service_config(self) -> dict:
        return self._request("GET", "service/config")

    def client_config(self) -> dict:
        return self._request("GET", "client/config")

    def claim(
        self,
        mdm_id: str,
        name: str,
        notification_url: str,
        notification_token: str,
        *,
        metadata: str = "",
        notification_types=(
            "ASSET_MANAGEMENT",
            "ASSET_COUNT",
            "USER_MANAGEMENT",
            "USER_ASSOCIATED",
        ),
    ) -> dict:
        return self._request(
            "POST",
            "client/config",
            json={
                "mdmInfo": {"id": mdm_id, "name": name, "metadata": metadata},
                "notificationUrl": notification_url,
                "notificationAuthToken": notification_token,
                "notificationTypes": list(notification_types),
            },
        )

    def iter_assets(self, **filters) -> Iterator[dict]:
        return self._pages("assets", "assets", filters)

    def iter_users(self, **filters) -> Iterator[dict]:
        return self._pages("users", "users", filters)

    def iter_assignments(self, **filters) -> Iterator[dict]:
        return self._pages("assignments", "assignments", filters)

    def create_users(self, users: list[dict]) -> dict:
        return self._request("POST", "users/create", json={"users": users})

    def update_users(self, users: list[dict]) -> dict:
        return self._request("POST", "users/update", json={"users": users})

    def retire_users(self, client_user_ids: list[str]) -> dict:
        return self._request(
            "POST", "users/retire", json={"users": [{"clientUserId": c} for c in client_user_ids]}
        )

    def associate(self, assets: list[dict], *, client_user_ids=(), serial_numbers=()) -> dict:
        return self._request(
            "POST",
            "assets/associate",
            json=self._assignment(assets, client_user_ids, serial_numbers),
        )

    def disassociate(self, assets: list[dict], *, client_user_ids=(), serial_numbers=()) -> dict:
        return self._request(
            "POST",
            "assets/disassociate",
            json=self._assignment(assets, client_user_ids, serial_numbers),
        )

    @staticmethod
    def _assignment(assets, client_user_ids, serial_numbers) -> dict:
        body = {"assets": list(assets)}
        if client_user_ids:
            body["clientUserIds"] = list(client_user_ids)
        if serial_numbers:
            body["serialNumbers"] = list(serial_numbers)
        return body

    def revoke(self, *, client_user_ids=(), serial_numbers=()) -> dict:
        """Revoke every revocable licence of these users/devices (asynchronous, EventResponse)."""
        body = {}
        if client_user_ids:
            body["clientUserIds"] = list(client_user_ids)
        if serial_numbers:
            body["serialNumbers"] = list(serial_numbers)
        return self._request("POST", "assets/revoke", json=body)

    def event_status(self, event_id: str) -> dict:
        return self._request("GET", "status", params={"eventId": event_id})
