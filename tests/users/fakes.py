"""A local stand-in for Microsoft's token endpoint and Graph (users, group members, users delta):
real HTTP on loopback, several pages, one 429 with Retry-After, removed users in delta rounds
and an expired delta link."""

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SECRET = "fake-client-secret"


def entra_user(n: int, **extra) -> dict:
    return {
        "id": str(uuid.UUID(int=n)),
        "userPrincipalName": f"user{n}@contoso.example",
        "mail": f"user{n}.mail@contoso.example",
        "givenName": f"Given{n}",
        "surname": f"Sur{n}",
        "displayName": f"User {n}",
        "accountEnabled": True,
        "otherMails": [],
        **extra,
    }


class FakeGraph:
    def __init__(self, users: int = 7, page_size: int = 3):
        self.users = {u["id"]: u for u in (entra_user(n) for n in range(1, users + 1))}
        self.groups = {"g-sales": list(self.users)[:2], "g-it": list(self.users)[1:4]}
        self.page_size = page_size
        self.throttle_once: set[str] = set()
        self.pending_changes: list[dict] = []
        self.expired_links: set[str] = set()
        self.requests: list[str] = []
        self.tokens_issued = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    # --- state changes the tests make -------------------------------------------------------

    def change(self, user_id: str, **fields):
        self.users[user_id].update(fields)
        self.pending_changes.append({"id": user_id, **fields})

    def remove(self, user_id: str):
        self.users.pop(user_id)
        self.pending_changes.append({"id": user_id, "@removed": {"reason": "deleted"}})

    def add(self, user: dict):
        self.users[user["id"]] = user
        self.pending_changes.append(user)

    # --- the service ------------------------------------------------------------------------

    def _paged(self, items: list, path: str, query: dict, final: dict) -> dict:
        skip = int(query.get("$skiptoken", ["0"])[0])
        page = {"value": items[skip : skip + self.page_size]}
        if skip + self.page_size < len(items):
            keep = "&".join(f"{k}={v[0]}" for k, v in query.items() if k != "$skiptoken")
            page["@odata.nextLink"] = f"{self.base}{path}?{keep}&$skiptoken={skip + self.page_size}"
        else:
            page.update(final)
        return page

    def answer(self, method, path, query, form, auth):
        if path.endswith("/oauth2/v2.0/token"):
            if form.get("client_secret", [""])[0] != SECRET:
                return 401, {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret.",
                }
            self.tokens_issued += 1
            return 200, {
                "token_type": "Bearer",
                "expires_in": 3599,
                "access_token": f"token-{self.tokens_issued}",
            }
        if not auth.startswith("Bearer token-"):
            return 401, {"error": {"code": "InvalidAuthenticationToken", "message": "no token"}}
        if path in self.throttle_once:
            self.throttle_once.discard(path)
            return 429, {"error": {"code": "TooManyRequests", "message": "slow down"}}
        if path == "/v1.0/users":
            return 200, self._paged(list(self.users.values()), path, query, {})
        if path.startswith("/v1.0/groups/") and path.endswith("/members/microsoft.graph.user"):
            group = path.split("/")[3]
            members = [self.users[i] for i in self.groups.get(group, []) if i in self.users]
            return 200, self._paged(members, path, query, {})
        if path == "/v1.0/users/delta":
            token = query.get("$deltatoken", [None])[0]
            if token in self.expired_links:
                return 410, {
                    "error": {
                        "code": "syncStateNotFound",
                        "message": "The sync state is no longer available.",
                    }
                }
            items = list(self.users.values()) if token is None else list(self.pending_changes)
            new_token = uuid.uuid4().hex
            final = {"@odata.deltaLink": f"{self.base}/v1.0/users/delta?$deltatoken={new_token}"}
            page = self._paged(items, path, query, final)
            if "@odata.deltaLink" in page:
                self.pending_changes = []
            return 200, page
        return 404, {"error": {"code": "NotFound", "message": path}}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode()) if length else {}
                fake.requests.append(parts.path)
                status, body = fake.answer(
                    method,
                    parts.path,
                    parse_qs(parts.query),
                    form,
                    self.headers.get("Authorization", ""),
                )
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                if status == 429:
                    self.send_header("Retry-After", "1")
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self):  # noqa: N802
                self._serve("GET")

            def do_POST(self):  # noqa: N802
                self._serve("POST")

            def log_message(self, format, *args):  # noqa: A002
                pass

        return Handler
