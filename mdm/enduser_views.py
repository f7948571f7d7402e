"""The end users' self-service page: sign in with the enrollment credentials (the same check as
the enrollment web login), see the own enrolled devices and the apps offered, install one.

The signed-in managed user is kept in the session under its own key (portal accounts are a
different kind of user); a changed password or a deactivated user ends it."""

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from enrollment import web_login
from enrollment.forms import WebLoginForm
from users.audit import record
from users.models import ManagedUser
from users.tenant_lookup import active_tenant_or_404
from users.throttle import client_ip

from . import selfservice, tasks

SESSION_KEY = "mdm_selfservice"


def _session_hash(user) -> str:
    return salted_hmac("mdm.selfservice", user.enrollment_password).hexdigest()


def _signed_in_user(request, tenant):
    data = request.session.get(SESSION_KEY)
    if not isinstance(data, dict) or data.get("tenant") != tenant.pk:
        return None
    user = (
        ManagedUser.objects.for_tenant(tenant)
        .filter(pk=data.get("user"), is_active=True)
        .select_related("tenant")
        .first()
    )
    if user is None or not constant_time_compare(data.get("hash", ""), _session_hash(user)):
        request.session.pop(SESSION_KEY, None)
        return None
    return user


@never_cache
@sensitive_post_parameters("password", "code")
@require_http_methods(["GET", "POST"])
def login(request, number: int):
    tenant = active_tenant_or_404(number)
    status, error, needs_code = 200, None, False
    if request.method == "POST":
        form = WebLoginForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            result = web_login.authenticate(
                tenant, data["identifier"], data["password"], data["code"], client_ip(request)
            )
            if result.user is not None:
                request.session.cycle_key()
                request.session[SESSION_KEY] = {
                    "tenant": tenant.pk,
                    "user": result.user.pk,
                    "hash": _session_hash(result.user),
                }
                record(f"user:{result.user.username}", "selfservice.login", result.user)
                return redirect("enduser-apps:index", number=number)
            status, error, needs_code = web_login.refusal(result)
        else:
            status, error = 400, _("Please fill in user name and password.")
    else:
        form = WebLoginForm()
    context = {"tenant": tenant, "form": form, "error": error, "needs_code": needs_code}
    return render(request, "mdm/enduser/login.html", context, status=status)


@never_cache
@require_POST
def logout(request, number: int):
    request.session.pop(SESSION_KEY, None)
    return redirect("enduser-apps:login", number=number)


@never_cache
def index(request, number: int):
    tenant = active_tenant_or_404(number)
    user = _signed_in_user(request, tenant)
    if user is None:
        return redirect("enduser-apps:login", number=number)
    devices, offered = selfservice.overview(user)
    context = {"tenant": tenant, "managed_user": user, "devices": devices, "offered": offered}
    return render(request, "mdm/enduser/apps.html", context)


@never_cache
@require_POST
def install(request, number: int):
    tenant = active_tenant_or_404(number)
    user = _signed_in_user(request, tenant)
    if user is None:
        return redirect("enduser-apps:login", number=number)
    try:
        with transaction.atomic():
            app, device, ids = selfservice.request_install(
                user, request.POST.get("app", ""), request.POST.get("device", "")
            )
            record(f"user:{user.username}", "selfservice.install_requested", app, device=device.pk)
            tasks.push_after_commit(ids)
            tasks.licences_after_commit(tenant.pk, [app.pk])
    except selfservice.NotOffered:
        messages.error(request, _("This app cannot be installed on this device from here."))
        return redirect("enduser-apps:index", number=number)
    messages.success(
        request,
        _("%(app)s is on its way: it is installed once your licence is assigned.") % {"app": app},
    )
    return redirect("enduser-apps:index", number=number)
