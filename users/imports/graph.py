"""Microsoft Graph client for user import (adue-protocol.md §8), over httpx.

App-only token by client credentials (cached until shortly before it expires), ``$select``ed
user lists, ``@odata.nextLink`` paging followed verbatim, ``Retry-After`` honoured on 429/503/504,
and ``users/delta`` with the stored delta link (``DeltaExpired`` when Graph no longer knows it).
"""

import time
from collections.abc import Iterator

import httpx
from django.conf import settings
from django.utils.translation import gettext_noop

# What a person reads when Microsoft cannot be asked (stored in English, shown translated).
UNREACHABLE = gettext_noop(
    "Microsoft Entra ID could not be reached. Check the portal's internet connection "
    "(firewall, proxy) and try again."
)
SIGNIN_REFUSED = gettext_noop(
    "Microsoft Entra ID refused the sign-in. Check the Entra tenant ID, the client ID and "
    "the client secret (secrets expire)."
)
FORBIDDEN = gettext_noop(
    "Microsoft Entra ID refused access. Grant the app the permissions User.Read.All and "
    "GroupMember.Read.All with admin consent."
)
NOT_FOUND = gettext_noop(
    "Microsoft Entra ID does not know a group or directory entered here. Check the IDs."
)
THROTTLED = gettext_noop("Microsoft Entra ID is busy right now. Try again in a few minutes.")
UNEXPECTED = gettext_noop(
    "Microsoft Entra ID answered with an unexpected error. Try again later; if it stays, "
    "check the app registration."
)

USER_FIELDS = "id,userPrincipalName,mail,displayName,givenName,surname,accountEnabled,otherMails"
MAX_RETRY_AFTER = 120


class GraphError(Exception):
    """``str(exc)`` is the technical detail (for logs); ``exc.human`` the sentence to show."""

    def __init__(self, message: str, status: int | None = None, code: str = "", human=""):
        super().__init__(message)
        self.status, self.code = status, code
        self.human = human or _human_for(status)


def _human_for(status: int | None) -> str:
    if status in (400, 401):
        return SIGNIN_REFUSED
    if status == 403:
        return FORBIDDEN
    if status == 404:
        return NOT_FOUND
    if status in (429, 503, 504):
        return THROTTLED
    return UNEXPECTED


class DeltaExpired(GraphError):
    """The stored delta link is no longer valid: a full import is needed."""


class GraphClient:
    def __init__(
        self,
        directory_id: str,
        client_id: str,
        client_secret: str,
        *,
        graph_base: str | None = None,
        login_base: str | None = None,
        sleep=time.sleep,
        max_retries: int = 4,
        timeout: float = 30.0,
        on_page=None,
    ):
        self.directory_id, self.client_id, self.client_secret = (
            directory_id,
            client_id,
            client_secret,
        )
        self.graph_base = (graph_base or settings.GRAPH_BASE_URL).rstrip("/")
        self.login_base = (login_base or settings.GRAPH_LOGIN_BASE_URL).rstrip("/")
        self.sleep, self.max_retries = sleep, max_retries
        self.on_page = on_page  # called with the number of entries of each page read
        self.http = httpx.Client(timeout=timeout)
        self._token, self._token_expires = None, 0.0

    def close(self):
        self.http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def token(self) -> str:
        if self._token and time.monotonic() < self._token_expires:
            return self._token
        response = self.http.post(
            f"{self.login_base}/{self.directory_id}/oauth2/v2.0/token",
            data={
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "scope": "https://graph.microsoft.com/.default",
                "grant_type": "client_credentials",
            },
        )
        data = self._json(response)
        if response.status_code != 200 or "access_token" not in data:
            error = data.get("error_description") or data.get("error") or response.status_code
            raise GraphError(
                f"sign-in to Microsoft Entra ID failed: {error}",
                response.status_code,
                str(data.get("error", "")),
                human=SIGNIN_REFUSED if response.status_code < 500 else UNEXPECTED,
            )
        self._token = data["access_token"]
        self._token_expires = time.monotonic() + max(int(data.get("expires_in", 3599)) - 120, 30)
        return self._token

    @staticmethod
    def _json(response: httpx.Response) -> dict:
        try:
            data = response.json()
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, url: str) -> dict:
        if url.startswith("/"):
            url = self.graph_base + url
        for attempt in range(self.max_retries + 1):
            try:
                response = self.http.get(url, headers={"Authorization": f"Bearer {self.token()}"})
            except httpx.TransportError as exc:
                if attempt == self.max_retries:
                    raise GraphError(
                        f"Microsoft Graph is unreachable: {exc}", human=UNREACHABLE
                    ) from exc
                self.sleep(2**attempt)
                continue
            if response.status_code in (429, 503, 504) and attempt < self.max_retries:
                retry_after = response.headers.get("Retry-After", "")
                delay = float(retry_after) if retry_after.isdigit() else 2**attempt
                self.sleep(min(delay, MAX_RETRY_AFTER))
                continue
            if response.status_code == 401 and attempt == 0:
                self._token = None  # token revoked or expired early: sign in again once
                continue
            data = self._json(response)
            if response.status_code == 200:
                return data
            error = data.get("error") or {}
            code = error.get("code", "") if isinstance(error, dict) else str(error)
            message = error.get("message", "") if isinstance(error, dict) else ""
            if response.status_code == 410 or code in (
                "syncStateNotFound",
                "resyncRequired",
                "syncStateInvalid",
            ):
                raise DeltaExpired(message or "delta link expired", response.status_code, code)
            raise GraphError(
                message or f"Microsoft Graph answered {response.status_code}",
                response.status_code,
                code,
            )
        raise GraphError("Microsoft Graph keeps throttling; try again later", 429)

    def pages(self, url: str) -> Iterator[dict]:
        """Every page of a collection, following ``@odata.nextLink`` verbatim."""
        while url:
            page = self.get(url)
            if self.on_page is not None:
                self.on_page(len(page.get("value", [])))
            yield page
            url = page.get("@odata.nextLink")

    def users(self) -> Iterator[dict]:
        for page in self.pages(f"/v1.0/users?$select={USER_FIELDS}&$top=999"):
            yield from page.get("value", [])

    def group_members(self, group_id: str) -> Iterator[dict]:
        url = f"/v1.0/groups/{group_id}/members/microsoft.graph.user?$select={USER_FIELDS}&$top=999"
        for page in self.pages(url):
            yield from page.get("value", [])

    def delta(self, delta_link: str | None) -> tuple[list[dict], str]:
        """(changes, new delta link). Without a link: every user, and the link to continue."""
        url = delta_link or f"/v1.0/users/delta?$select={USER_FIELDS}"
        changes: list[dict] = []
        for page in self.pages(url):
            changes.extend(page.get("value", []))
            if page.get("@odata.deltaLink"):
                return changes, page["@odata.deltaLink"]
        raise GraphError("the delta round ended without a delta link")
