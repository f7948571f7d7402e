"""End-user pages: the enrollment web login, terms of use acceptance, invitation links."""

from urllib.parse import urlencode

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from users.audit import record
from users.enrollment_password import build_set_password_url
from users.tenant_lookup import active_tenant_or_404
from users.throttle import client_ip

from . import terms as terms_service
from . import tokens, web_login
from .addresses import local_address
from .forms import WebLoginForm
from .models import Invitation

CALLBACK = "apple-remotemanagement-user-login://authentication-results"


@never_cache
@sensitive_post_parameters("password", "code")
@require_http_methods(["GET", "POST"])
def login(request, number: int):
    tenant = active_tenant_or_404(number)
    current = terms_service.current_terms(tenant)
    identifier = request.GET.get("user-identifier", "")
    status = 200
    error = None
    needs_code = False
    if request.method == "POST":
        form = WebLoginForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            result = web_login.authenticate(
                tenant, data["identifier"], data["password"], data["code"], client_ip(request)
            )
            if result.user is not None:
                session, raw = tokens.issue(result.user, remote_addr=client_ip(request) or None)
                if current is not None and data["accept_terms"]:
                    terms_service.accept(session, current, remote_addr=client_ip(request) or None)
                record(f"user:{result.user.username}", "enrollment.web_login", session)
                response = HttpResponse(status=308)
                # Django's redirect classes refuse custom schemes, so the header is set directly.
                response["Location"] = f"{CALLBACK}?{urlencode({'access-token': raw})}"
                return response
            status, error, needs_code = web_login.refusal(result)
        else:
            status, error = 400, _("Please fill in user name and password.")
    else:
        form = WebLoginForm(initial={"identifier": identifier})
    context = {
        "tenant": tenant,
        "form": form,
        "error": error,
        "needs_code": needs_code,
        "terms": current,
        "terms_text": current.text_for(translation.get_language() or "en") if current else "",
    }
    return render(request, "enrollment/enduser/login.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def accept_terms(request, token: str):
    session = terms_service.session_for_link(token)
    if session is None:
        raise Http404("Unknown link")
    current = terms_service.current_terms(session.tenant)
    if current is None:
        raise Http404("No terms")
    language = translation.get_language() or session.user.language
    accepted = terms_service.is_accepted(session, current)
    if request.method == "POST" and not accepted:
        terms_service.accept(session, current, remote_addr=client_ip(request) or None)
        record(
            f"user:{session.user.username}",
            "enrollment.terms_accepted",
            session,
            version=current.version,
        )
        return redirect(request.path)
    return render(
        request,
        "enrollment/enduser/terms.html",
        {
            "session": session,
            "terms": current,
            "text": current.text_for(language),
            "accepted": accepted,
        },
    )


@never_cache
def invitation(request, link_id):
    """The page an invitation mail links to: address, steps, password set-up; marks 'opened'."""
    invite = get_object_or_404(Invitation.objects.select_related("user", "tenant"), link_id=link_id)
    if invite.opened_at is None:
        Invitation.objects.filter(pk=invite.pk, opened_at=None).update(opened_at=timezone.now())
    user = invite.user
    return render(
        request,
        "enrollment/enduser/invitation.html",
        {
            "invite": invite,
            "user": user,
            "address": local_address(user),
            "set_password_url": None
            if user.has_enrollment_password
            else build_set_password_url(user),
        },
    )
