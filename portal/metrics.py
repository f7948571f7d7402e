"""/metrics for Prometheus: not public. A scraper brings ``Authorization: Bearer
<METRICS_TOKEN>``, or comes from an address in ``METRICS_ALLOWED_IPS``; anyone else gets 404,
so the endpoint does not even confirm it exists."""

import hmac

from django.conf import settings
from django.http import Http404, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from users.throttle import client_ip


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
        return True
    return client_ip(request) in settings.METRICS_ALLOWED_IPS


def metrics_view(request):
    if not _allowed(request):
        raise Http404
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
