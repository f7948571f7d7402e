"""The portal's URLs plus ``/bench/bare``: a constant plist through Django's handler and the
portal's middleware, the baseline ``bench/connect_poll.py`` compares ``/mdm/connect`` with."""

import plistlib

from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

BARE_BODY = plistlib.dumps({"Status": "Idle"}, fmt=plistlib.FMT_XML)


@csrf_exempt
def bare(request):
    return HttpResponse(BARE_BODY, content_type="application/xml")


urlpatterns = [path("bench/bare", bare), path("", include("portal.urls"))]
