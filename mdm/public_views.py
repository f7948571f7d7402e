"""Device-facing MDM endpoints: check-in and command (no session, no CSRF, raw bodies)."""

import logging

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from apple import plist
from enrollment.public_views import challenge

from . import checkin, commands_endpoint
from .device_auth import DeviceAuthError, authenticate

log = logging.getLogger("mdm.device")

MAX_BODY = 2 * 1024 * 1024


def _reply(reply: checkin.Reply) -> HttpResponse:
    return HttpResponse(reply.body, status=reply.status, content_type=reply.content_type)


def _device_request(request, handler):
    body = request.body
    if len(body) > MAX_BODY:
        return HttpResponse(b"body too large\n", status=413, content_type="text/plain")
    try:
        message = plist.loads(body, max_size=MAX_BODY)
    except plist.PlistError as exc:
        return HttpResponse(f"bad plist: {exc}\n", status=400, content_type="text/plain")
    try:
        creds = authenticate(request, allow_ended_token=message.get("MessageType") == "CheckOut")
    except DeviceAuthError as exc:
        log.info("device request refused (%s): %s", exc.status, exc.reason)
        if exc.status == 401 and exc.challenge_tenant is not None:
            return challenge(exc.challenge_tenant)
        return HttpResponse(f"{exc.reason}\n", status=exc.status, content_type="text/plain")
    return _reply(handler(creds, message, body))


@csrf_exempt
@require_http_methods(["PUT"])
def checkin_view(request):
    return _device_request(request, checkin.handle)


@csrf_exempt
@require_http_methods(["PUT"])
def connect_view(request):
    return _device_request(request, commands_endpoint.handle_report)
