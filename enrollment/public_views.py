"""Device-facing enrollment endpoints: discovery and the enrollment POSTs (no session, no CSRF).

The enrollment POST is stateless until the device brings a bearer token: an anonymous POST
gets the ``apple-as-web`` challenge and nothing is stored for it.
"""

import logging

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from users import statements
from users.audit import record_part
from users.tenant_lookup import active_tenant_or_404

from . import discovery, lifecycle, machine_info, tokens
from .profiles import ProfileUnavailable, enrollment_profile

log = logging.getLogger("enrollment.device")


def well_known_failed(description: str, message: str) -> JsonResponse:
    response = JsonResponse(
        {"code": "com.apple.well-known.failed", "description": description, "message": message},
        status=403,
    )
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def remote_management(request):
    identifier = request.GET.get("user-identifier", "")
    family = request.GET.get("model-family", "")
    tenant, refusal = discovery.resolve(identifier, family)
    if refusal is not None:
        log.info("discovery refused for %r (%s): %s", identifier, family, refusal.description)
        return well_known_failed(refusal.description, refusal.message)
    response = JsonResponse(
        {"Servers": [{"Version": "mdm-byod", "BaseURL": discovery.base_url(tenant)}]}
    )
    response["Cache-Control"] = "no-store"
    return response


def challenge(tenant) -> HttpResponse:
    response = HttpResponse(status=401)
    response["WWW-Authenticate"] = discovery.web_login_challenge(tenant)
    return response


@csrf_exempt
@require_POST
def enroll(request, number: int):
    raw = tokens.bearer_from(request)
    # With a usable token, its session brings the tenant (one query); otherwise the tenant is
    # looked up for the 404 or the sign-in challenge.
    session = tokens.session_for(raw, tenant_number=number) if raw else None
    tenant = session.tenant if session else active_tenant_or_404(number)
    try:
        info = machine_info.parse(request.body)
    except machine_info.MachineInfoError as exc:
        log.info("enrollment POST for tenant %s rejected: %s", number, exc)
        return HttpResponse(
            f"Bad enrollment request: {exc}\n", status=400, content_type="text/plain"
        )
    if session is None or session.is_bound:
        # No token, or unknown, expired or already used by an enrolled device: sign in again.
        return challenge(tenant)
    try:
        body, scep_challenge = enrollment_profile(session)
    except ProfileUnavailable as exc:
        log.warning("no enrollment profile for tenant %s: %s", number, exc)
        return HttpResponse(
            f"Enrollment unavailable: {exc}\n", status=403, content_type="text/plain"
        )
    # The profile's SCEP challenge, the session's state and the audit event: one statement.
    details = info.as_json()
    statements.write_together(
        [
            scep_challenge,
            lifecycle.profile_delivered_part(session, machine_info=details),
            record_part(
                f"user:{session.user.username}", "enrollment.profile_delivered", session, **details
            ),
        ]
    )
    response = HttpResponse(body, content_type="application/x-apple-aspen-config")
    response["Content-Disposition"] = 'attachment; filename="enrollment.mobileconfig"'
    response["Cache-Control"] = "no-store"
    return response
