"""MDM protocol plumbing shared by check-in and connect: the reply type, the refusals, and the
shape checks a device message passes before any handler sees it."""

import json
import uuid
from dataclasses import dataclass, field

from django.http import HttpResponse

UNRECOGNIZED = "com.apple.unrecognized.device"


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain"
    headers: dict = field(default_factory=dict)

    @classmethod
    def json(cls, data) -> "Reply":
        return cls(200, json.dumps(data).encode(), "application/json")

    def http(self) -> HttpResponse:
        response = HttpResponse(self.body, status=self.status, content_type=self.content_type)
        for name, value in self.headers.items():
            response[name] = value
        return response


def unrecognized(description: str) -> Reply:
    """Apple's way (iOS 17+) to say "I do not know this enrollment": the device unenrolls (§3.3,
    schema ``mdm/errors/unrecognized.device.yaml``). Every refusal of a device uses it."""
    body = {
        "code": UNRECOGNIZED,
        "description": description,
        "message": "This device is not managed by this server.",
    }
    return Reply(403, json.dumps(body).encode(), "application/json")


def bad_request(reason: str) -> Reply:
    return Reply(400, f"{reason}\n".encode())


class BadMessage(Exception):
    """A device message that is not what Apple documents: 400, and nothing is written."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    def reply(self) -> Reply:
        return bad_request(self.reason)


def text(message: dict, key: str, *, limit: int = 128, required: bool = False) -> str:
    """A string key of a device message: wrong type is a 400, too long is cut."""
    value = message.get(key)
    if value is None:
        if required:
            raise BadMessage(f"{key} missing")
        return ""
    if not isinstance(value, str):
        raise BadMessage(f"{key} must be a string")
    return value[:limit]


def command_uuid(message: dict) -> uuid.UUID:
    raw = text(message, "CommandUUID", limit=64, required=True)
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise BadMessage("CommandUUID is not a UUID") from exc
