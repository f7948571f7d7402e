"""Apple's callbacks: the Apps and Books notification endpoint."""

import json

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import tasks
from .models import VppToken
from .vpp import notifications


@csrf_exempt
@require_POST
def vpp_notification(request, mdm_id):
    row = get_object_or_404(VppToken, mdm_id=mdm_id)
    if not notifications.authenticate(row, request.META.get("HTTP_AUTHORIZATION", "")):
        return HttpResponse(status=401)
    try:
        body = json.loads(request.body)
    except ValueError:
        return HttpResponse("not JSON\n", status=400, content_type="text/plain")
    if not isinstance(body, dict):
        return HttpResponse("not a notification\n", status=400, content_type="text/plain")
    if notifications.handle(row, body):
        tasks.sync_vpp_assets_after_commit(row)
    return HttpResponse(status=200)
