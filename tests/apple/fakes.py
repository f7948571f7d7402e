"""A local stand-in for Apple's Apps and Books API (v2): real HTTP on loopback, the documented
JSON, paging, a 429 with Retry-After, errorNumber answers and another MDM's mdmInfo."""

import base64
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def token_file(org="Contoso Ltd", exp="2030-11-08T22:33:22+0000", token=None) -> bytes:
    payload = {"token": token or uuid.uuid4().hex, "expDate": exp, "orgName": org}
    return base64.b64encode(json.dumps(payload).encode())


class FakeVpp:
    def __init__(self):
        self.token_text: str | None = None
        self.revoked = False
        self.mdm_info: dict | None = None
        self.assets = [
            {
                "adamId": str(361304891 + i),
                "pricingParam": "STDQ",
                "productType": "App",
                "assignedCount": i,
                "availableCount": 10 - i,
                "retiredCount": 0,
                "totalCount": 10,
                "deviceAssignable": True,
                "revocable": True,
                "supportedPlatforms": ["iOS"],
            }
            for i in range(5)
        ]
        self.page_size = 2
        self.throttle_next = set()  # paths answered once with 429 + Retry-After
        self.retry_after = "1"
        self.unavailable_next = set()  # paths answered once with a bare 503 (no Retry-After)
        self.events_finish_at_once = True  # False: jobs stay PENDING until finish_events()
        self.requests: list[tuple[str, str, dict]] = []
        self.events: dict[str, dict] = {}
        self.users: list[dict] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/mdm/v2"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def accept(self, token_bytes: bytes):
        self.token_text = token_bytes.decode()

    def finish_events(self, failures=()):
        for event in self.events.values():
            event["eventStatus"] = "FAILED" if failures else "COMPLETE"
            event["numCompleted"] = 0 if failures else event["numRequested"]
            event["failures"] = list(failures)

    # --- the API ----------------------------------------------------------------------------

    def _config(self) -> dict:
        config = {
            "countryISO2ACode": "DE",
            "defaultPlatform": "volumestore",
            "locationName": "Contoso Berlin",
            "uId": "981060278089131045",
            "websiteURL": "https://business.apple.com",
            "tokenExpirationDate": "2030-11-08T22:33:22+0000",
        }
        if self.mdm_info:
            config["mdmInfo"] = self.mdm_info
        return config

    def _page(self, items, query) -> dict:
        index = int(query.get("pageIndex", ["0"])[0])
        start = index * self.page_size
        page = {
            "currentPageIndex": index,
            "size": self.page_size,
            "versionId": "v1",
            "totalPages": -(-len(items) // self.page_size),
        }
        if start + self.page_size < len(items):
            page["nextPageIndex"] = index + 1
        return page, items[start : start + self.page_size]

    def answer(self, method: str, path: str, query: dict, body: dict, auth: str):
        if path in self.throttle_next:
            self.throttle_next.discard(path)
            return 429, {"Retry-After": self.retry_after}, {"errorMessage": "Too many requests"}
        if path in self.unavailable_next:
            self.unavailable_next.discard(path)
            return 503, {}, {"errorMessage": "Service unavailable"}
        if path == "service/config":
            return (
                200,
                {},
                {
                    "limits": {"maxAssets": 25, "maxClientUserIds": 1000},
                    "errorCodes": [{"errorNumber": 9622, "errorMessage": "Invalid token"}],
                },
            )
        if auth != f"Bearer {self.token_text}":
            # Apple answers token problems with HTTP 200 and an error body.
            return 200, {}, {"errorNumber": 9622, "errorMessage": "Invalid authentication token"}
        if self.revoked:
            return (
                200,
                {},
                {"errorNumber": 9625, "errorMessage": "The server token has been revoked."},
            )
        if path == "client/config" and method == "GET":
            return 200, {}, self._config()
        if path == "client/config" and method == "POST":
            self.mdm_info = body["mdmInfo"]
            return 200, {}, self._config() | {"notificationUrl": body.get("notificationUrl")}
        if path == "assets":
            page, items = self._page(self.assets, query)
            return 200, {}, page | {"assets": items}
        if path == "users":
            page, items = self._page(self.users, query)
            return 200, {}, page | {"users": items}
        if path == "assignments":
            page, items = self._page([], query)
            return 200, {}, page | {"assignments": items}
        if path in (
            "users/create",
            "users/update",
            "users/retire",
            "assets/associate",
            "assets/disassociate",
            "assets/revoke",
        ):
            if path == "users/create":
                self.users += body["users"]
            event_id = str(uuid.uuid4())
            done = self.events_finish_at_once
            self.events[event_id] = {
                "eventStatus": "COMPLETE" if done else "PENDING",
                "eventType": path.split("/")[1].upper(),
                "numCompleted": 1 if done else 0,
                "numRequested": 1,
            }
            return 200, {}, {"eventId": event_id, "uId": "981060278089131045"}
        if path == "status":
            event = self.events.get(query.get("eventId", [""])[0])
            if event is None:
                return 200, {}, {"errorNumber": 9602, "errorMessage": "Invalid argument"}
            return 200, {}, event
        return 404, {}, {"errorMessage": "not found"}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method):
                parts = urlsplit(self.path)
                path = parts.path.removeprefix("/mdm/v2/")
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}") if length else {}
                query = parse_qs(parts.query)
                fake.requests.append((method, path, body))
                status, headers, data = fake.answer(
                    method, path, query, body, self.headers.get("Authorization", "")
                )
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self):  # noqa: N802 - http.server's naming
                self._serve("GET")

            def do_POST(self):  # noqa: N802
                self._serve("POST")

            def log_message(self, format, *args):  # noqa: A002
                pass

        return Handler
