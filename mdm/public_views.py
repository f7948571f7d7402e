"""Device-facing MDM endpoints: check-in and connect (no session, no CSRF, raw bodies).

Order of work, cheapest refusal first: size, then the device's signature over the raw bytes
(``device_auth.identify``), and only then the plist is parsed and handed to the handler.
"""

import logging

from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from apple import plist
from enrollment.discovery import web_login_challenge
from users.models import Tenant

from . import checkin, connect, metrics
from .device_auth import DeviceAuthError, identify
from .protocol import BadMessage, Reply, unrecognized

log = logging.getLogger("mdm.device")

MAX_BODY = 2 * 1024 * 1024


def _refusal(exc: DeviceAuthError) -> Reply:
    log.info("device request refused (%s): %s", exc.status, exc.reason)
    if exc.status == 401 and exc.challenge_tenant_id is not None:
        tenant = Tenant.objects.filter(pk=exc.challenge_tenant_id).first()
        if tenant is not None:
            return Reply(401, headers={"WWW-Authenticate": web_login_challenge(tenant)})
    if exc.status == 401:
        return Reply(401, f"{exc.reason}\n".encode())
    return unrecognized(exc.reason)


def _kind(message: dict, key: str, known) -> str:
    value = message.get(key)
    return value if isinstance(value, str) and value in known else "other"


def _answer(request, endpoint: str) -> tuple[Reply, str]:
    """The reply, and the message kind for the metrics (MessageType or Status)."""
    body = request.body
    if len(body) > MAX_BODY:
        return Reply(413, b"body too large\n"), "unparsed"
    try:
        identity = identify(request)
    except DeviceAuthError as exc:
        return _refusal(exc), "unauthenticated"
    try:
        # NUL characters are refused here: PostgreSQL cannot store them.
        message = plist.loads(body, max_size=MAX_BODY, reject_nul=True)
    except plist.PlistError as exc:
        return Reply(400, f"bad plist: {exc}\n".encode()), "unparsed"
    if not isinstance(message, dict):
        return Reply(400, b"the message must be a dictionary\n"), "unparsed"
    if endpoint == "checkin":
        handler, kind = checkin.handle, _kind(message, "MessageType", checkin.HANDLERS)
    else:
        handler, kind = connect.handle, _kind(message, "Status", connect.REPORT_STATUSES)
    try:
        return handler(identity, message, body), kind
    except DeviceAuthError as exc:
        return _refusal(exc), kind
    except BadMessage as exc:
        log.info("bad %s message: %s", endpoint, exc.reason)
        return exc.reply(), kind


def _device_request(request, endpoint: str):
    reply, kind = _answer(request, endpoint)
    metrics.CHECKINS.labels(endpoint, kind, str(reply.status)).inc()
    return reply.http()


@csrf_exempt
@require_http_methods(["PUT"])
def checkin_view(request):
    return _device_request(request, "checkin")


@csrf_exempt
@require_http_methods(["PUT"])
def connect_view(request):
    return _device_request(request, "connect")
