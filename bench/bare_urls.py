"""The portal's URLs plus two baselines ``bench/connect_poll.py`` compares ``/mdm/connect``
with: ``/bench/bare``, a constant plist through Django's handler and the whole middleware chain
(the reference the ratio is judged by), and ``/mdm/bench-bare``, the same on the device path
(named among the device endpoints, so it skips the browsers' middleware as they do)."""

import plistlib

from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from portal import device_requests

BARE_BODY = plistlib.dumps({"Status": "Idle"}, fmt=plistlib.FMT_XML)


@csrf_exempt
def bare(request):
    return HttpResponse(BARE_BODY, content_type="application/xml")


@csrf_exempt
def device_bare(request):
    return HttpResponse(BARE_BODY, content_type="application/xml")


# Only the benchmarks' server loads this module: its device-path baseline joins the device views.
device_requests.DEVICE_VIEWS = device_requests.DEVICE_VIEWS | {"bench-device-bare"}

urlpatterns = [
    path("mdm/bench-bare", device_bare, name="bench-device-bare"),
    path("bench/bare", bare),
    path("", include("portal.urls")),
]
