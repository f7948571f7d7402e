"""The SCEP endpoint (RFC 8894): GetCACaps, GetCACert, PKIOperation by GET and POST."""

import base64
import binascii

from cryptography.hazmat.primitives import serialization
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from users.tenant_lookup import active_tenant_or_404

from . import protocol, services

CAPABILITIES = ["AES", "POSTPKIOperation", "SHA-256", "SHA-1", "SCEPStandard"]
MAX_MESSAGE = 64 * 1024


@csrf_exempt
@require_http_methods(["GET", "POST"])
def service(request, number: int):
    operation = request.GET.get("operation", "")
    if operation == "GetCACaps":
        active_tenant_or_404(number)
        return HttpResponse("\n".join(CAPABILITIES) + "\n", content_type="text/plain")
    ca = services.service_ca(number)
    if ca is None:
        raise Http404("no such tenant")
    if operation == "GetCACert":
        der = services.loaded(ca)[0].public_bytes(serialization.Encoding.DER)
        return HttpResponse(der, content_type="application/x-x509-ca-cert")
    if operation != "PKIOperation":
        return HttpResponseBadRequest("unknown operation\n", content_type="text/plain")
    if request.method == "POST":
        message = request.body
    else:
        try:
            message = base64.b64decode(request.GET.get("message", ""), validate=False)
        except (binascii.Error, ValueError):
            return HttpResponseBadRequest("message is not base64\n", content_type="text/plain")
    if not message or len(message) > MAX_MESSAGE:
        return HttpResponseBadRequest("missing or oversized message\n", content_type="text/plain")
    try:
        reply = services.handle_pki_operation(ca.tenant, message, ca=ca)
    except protocol.ScepProtocolError as exc:
        return HttpResponseBadRequest(f"{exc}\n", content_type="text/plain")
    return HttpResponse(reply, content_type="application/x-pki-message")
