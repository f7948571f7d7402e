"""A local stand-in for Apple's Apps and Books API (v2): real HTTP on loopback, the documented
JSON, paging, a 429 with Retry-After, errorNumber answers and another MDM's mdmInfo.

Users and licences behave like Apple's: ``users/create`` registers users, ``users/update``
changes a registered user's ``managedAppleId``/``email`` (``updates`` lists what it applied; an
unknown or retired user fails with its errorNumber), ``assets/associate`` takes a licence per
(asset, clientUserId) while the asset has one available and fails the rest per user with an
``errorNumber`` (unknown or retired user, none left, or whatever ``user_errors`` says),
``assets/disassociate`` and ``users/retire`` give licences back. Every job is an event that
finishes at once or when the test says (``events_finish_at_once``, ``finish_events``);
``notification(event_id)`` is the ASSET_MANAGEMENT body Apple would post.
``duplicate_associations`` counts licences asked for a user who already held one.
"""

import base64
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# errorNumbers the fake answers per user; 9609 is Apple's documented one, the licence-shortage
# number is the fake's own stand-in (the portal reads the texts from service/config anyway).
USER_NOT_FOUND = {"errorNumber": 9609, "errorMessage": "Registered user not found"}
NO_LICENCE_LEFT = {"errorNumber": 9616, "errorMessage": "Not enough licences for this asset"}
USER_RETIRED = {"errorNumber": 9618, "errorMessage": "The user has already been retired"}

JOB_PATHS = (
    "users/create",
    "users/update",
    "users/retire",
    "assets/associate",
    "assets/disassociate",
    "assets/revoke",
)


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
        self.limits = {"maxAssets": 25, "maxClientUserIds": 1000, "maxUsers": 100}
        # (adamId, pricingParam, clientUserId) holding a licence
        self.assignments: set[tuple[str, str, str]] = set()
        # clientUserId or managedAppleId -> the failure every job answers for that user
        self.user_errors: dict[str, dict] = {}
        self.duplicate_associations = 0
        self.updates: list[dict] = []  # the users/update items applied, in order
        self.lock = threading.Lock()
        # The content metadata lookup (``metadata_url``): adamId -> Apple's lockup item.
        self.metadata = {
            str(361304891 + i): {
                "name": f"Contoso App {i}",
                "bundleId": f"com.contoso.app{i}",
                "artwork": {
                    "url": f"https://is1-ssl.mzstatic.com/image/thumb/Purple/app{i}/{{w}}x{{h}}{{c}}.{{f}}"
                },
                "deviceFamilies": ["ipad", "iphone"],
                "platformAttributes": {
                    "ios": {
                        "bundleId": f"com.contoso.app{i}",
                        "latestVersionInfo": {"versionDisplay": f"{i + 1}.0"},
                    }
                },
            }
            for i in range(5)
        }
        self.metadata_down = False
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/mdm/v2"

    @property
    def metadata_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/lookup"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def accept(self, token_bytes: bytes):
        self.token_text = token_bytes.decode()

    def finish_events(self, failures=()):
        """Finish every pending job: with its own outcome, or failed with ``failures``."""
        for event in self.events.values():
            if event["eventStatus"] != "PENDING":
                continue
            outcome = event.pop("_outcome")
            if failures:
                outcome = {"eventStatus": "FAILED", "numCompleted": 0, "failures": list(failures)}
            event.update(outcome)

    def calls(self, path: str) -> int:
        return sum(1 for _method, p, _body in self.requests if p == path)

    def user(self, client_user_id: str) -> dict | None:
        return next((u for u in self.users if u["clientUserId"] == client_user_id), None)

    def holders(self, adam_id: str) -> set[str]:
        return {c for a, _p, c in self.assignments if a == adam_id}

    def notification(self, event_id: str) -> dict:
        """The ASSET_MANAGEMENT notification Apple posts when the job is done."""
        event = self.events[event_id]
        failed = {c for f in event.get("failures", []) for c in f["errorInfo"]["clientUserIds"]}
        body = {
            "assignments": [a for a in event["_assignments"] if a["clientUserId"] not in failed],
            "eventId": event_id,
            "result": "SUCCESS" if event["eventStatus"] == "COMPLETE" else "FAILURE",
            "type": event["eventType"],
        }
        if event.get("failures"):
            body["error"] = event["failures"][0]
        return {
            "notification": body,
            "notificationId": str(uuid.uuid4()),
            "notificationType": "ASSET_MANAGEMENT",
            "uId": "981060278089131045",
        }

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
        if path == "/lookup":
            if self.metadata_down:
                return 503, {}, {}
            ids = query.get("id", [""])[0].split(",")
            return 200, {}, {"results": {i: self.metadata[i] for i in ids if i in self.metadata}}
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
                    "limits": dict(self.limits),
                    "errorCodes": [
                        {"errorNumber": 9622, "errorMessage": "Invalid token"},
                        USER_NOT_FOUND,
                        NO_LICENCE_LEFT,
                        USER_RETIRED,
                    ],
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
            rows = [
                {"adamId": a, "pricingParam": p, "clientUserId": c}
                for a, p, c in sorted(self.assignments)
            ]
            page, items = self._page(rows, query)
            return 200, {}, page | {"assignments": items}
        if path in JOB_PATHS:
            with self.lock:
                return 200, {}, self._job(path, body)
        if path == "status":
            event = self.events.get(query.get("eventId", [""])[0])
            if event is None:
                return 200, {}, {"errorNumber": 9602, "errorMessage": "Invalid argument"}
            return 200, {}, {k: v for k, v in event.items() if not k.startswith("_")}
        return 404, {}, {"errorMessage": "not found"}

    # --- jobs --------------------------------------------------------------------------------

    def _asset(self, adam_id: str, pricing: str) -> dict | None:
        return next(
            (a for a in self.assets if a["adamId"] == adam_id and a["pricingParam"] == pricing),
            None,
        )

    def _count(self, asset: dict | None, delta: int) -> None:
        """``delta`` licences taken (+) or given back (-)."""
        if asset is not None:
            asset["assignedCount"] += delta
            asset["availableCount"] -= delta

    def _error_for(self, client_user_id: str, managed_apple_id: str = "") -> dict | None:
        user = self.user(client_user_id) or {}
        apple_id = managed_apple_id or user.get("managedAppleId", "")
        return self.user_errors.get(client_user_id) or self.user_errors.get(apple_id)

    def _registered(self, client_user_id: str) -> bool:
        user = self.user(client_user_id)
        return user is not None and user["status"] == "Registered"

    def _job(self, path: str, body: dict) -> dict:
        failures: dict[str, dict] = {}  # clientUserId -> failure
        assignments: list[dict] = []
        requested = 0

        def fail(client_user_id, failure):
            failures[client_user_id] = failure

        if path in ("users/create", "users/update"):
            for item in body.get("users", []):
                requested += 1
                cid = item["clientUserId"]
                error = self._error_for(cid, item.get("managedAppleId", ""))
                if error:
                    fail(cid, error)
                    continue
                user = self.user(cid)
                if path == "users/update":
                    # Only a registered user can be updated: its new email/managedAppleId.
                    if user is None or user["status"] == "Retired":
                        fail(cid, USER_NOT_FOUND if user is None else USER_RETIRED)
                        continue
                    self.updates.append(dict(item))
                elif user is None:
                    user = {"clientUserId": cid, "userId": uuid.uuid4().hex[:16]}
                    self.users.append(user)
                user.update({k: v for k, v in item.items() if k != "clientUserId"})
                user["status"] = "Registered"
        elif path == "users/retire":
            for item in body.get("users", []):
                requested += 1
                cid = item["clientUserId"]
                user = self.user(cid)
                if user is None:
                    fail(cid, USER_NOT_FOUND)
                    continue
                user["status"] = "Retired"
                for held in [a for a in self.assignments if a[2] == cid]:
                    self.assignments.discard(held)
                    self._count(self._asset(held[0], held[1]), -1)
        elif path in ("assets/associate", "assets/disassociate"):
            for asset_ref in body.get("assets", []):
                key = (str(asset_ref["adamId"]), str(asset_ref.get("pricingParam", "STDQ")))
                asset = self._asset(*key)
                for cid in body.get("clientUserIds", []):
                    requested += 1
                    held = (*key, cid)
                    error = self._error_for(cid)
                    if error:
                        fail(cid, error)
                    elif path == "assets/associate":
                        if not self._registered(cid):
                            fail(cid, USER_NOT_FOUND)
                        elif held in self.assignments:
                            self.duplicate_associations += 1
                        elif asset is None or asset["availableCount"] <= 0:
                            fail(cid, NO_LICENCE_LEFT)
                        else:
                            self.assignments.add(held)
                            self._count(asset, 1)
                    elif held in self.assignments:
                        self.assignments.discard(held)
                        self._count(asset, -1)
                    if cid not in failures:
                        assignments.append(
                            {"adamId": key[0], "pricingParam": key[1], "clientUserId": cid}
                        )
        else:  # assets/revoke
            requested = len(body.get("clientUserIds", []))
        outcome = {
            "eventStatus": "FAILED" if failures and len(failures) >= requested else "COMPLETE",
            "numCompleted": requested - len(failures),
            "failures": [
                failure | {"errorInfo": {"clientUserIds": [cid]}}
                for cid, failure in failures.items()
            ],
        }
        event_id = str(uuid.uuid4())
        event = {
            "eventType": {"users": "USER_", "assets": ""}[path.split("/")[0]]
            + path.split("/")[1].upper(),
            "numRequested": requested,
            "_assignments": assignments,
        }
        if self.events_finish_at_once:
            event.update(outcome)
        else:
            event.update(eventStatus="PENDING", numCompleted=0, _outcome=outcome)
        self.events[event_id] = event
        return {"eventId": event_id, "uId": "981060278089131045"}

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
