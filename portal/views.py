"""Portal shell: sign-in, tenant switch, dashboard, audit log, API tokens, health."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, ListView, TemplateView

from users.audit import record
from users.middleware import SESSION_KEY
from users.models import ApiToken, AuditEvent, Role
from users.tenancy import TenantAdminRequiredMixin, TenantMemberRequiredMixin, TenantObjectMixin

from .forms import ThrottledAuthenticationForm
from .models import WorkerHeartbeat


@method_decorator(sensitive_post_parameters("password"), name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        record(form.get_user(), "account.login", tenant=form.get_user().tenant)
        return response

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if any(e.code == "throttled" for e in form.non_field_errors().as_data()):
            response.status_code = 429
        return response


@require_POST
def logout_view(request):
    logout(request)
    return redirect("portal:login")


@login_required
@require_POST
def switch_tenant(request):
    """Resellers choose which of their tenants they act for."""
    tenant = request.user.available_tenants().filter(pk=request.POST.get("tenant")).first()
    if tenant is None:
        raise Http404("Unknown tenant")
    request.session[SESSION_KEY] = tenant.pk
    record(request.user, "account.switch_tenant", tenant, tenant=tenant)
    messages.success(request, _("You are now working in %(tenant)s.") % {"tenant": tenant.name})
    target = request.POST.get("next") or reverse("portal:dashboard")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("portal:dashboard")
    return HttpResponseRedirect(target)


class DashboardView(TenantMemberRequiredMixin, TemplateView):
    template_name = "portal/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant = self.request.tenant
        context["steps"] = setup_steps(tenant)
        context["recent_events"] = AuditEvent.objects.for_tenant(tenant)[:8]
        if self.request.user.role == Role.RESELLER:
            recent = timezone.now() - timedelta(minutes=5)
            context["workers"] = WorkerHeartbeat.objects.filter(seen_at__gte=recent)
            context["tasks_in_process"] = settings.CELERY_TASK_ALWAYS_EAGER
        return context


def setup_steps(tenant):
    """The commissioning steps of the product, each with whether it is done yet."""
    from django.apps import apps

    def count(label, **filters):
        try:
            model = apps.get_model(label)
        except LookupError:
            return 0
        return model.objects.filter(tenant=tenant, **filters).count()

    return [
        {
            "title": _("Apple push certificate and Apps and Books token"),
            "url": reverse("mobile_settings:index"),
            "done": count("apple.PushCertificate") > 0 and count("apple.VppToken") > 0,
        },
        {
            "title": _("A User registration profile"),
            "url": reverse("enrollment:profiles"),
            "done": count("enrollment.Profile") > 0,
        },
        {
            "title": _("Users with managed Apple IDs"),
            "url": reverse("users:list"),
            "done": count("users.ManagedUser") > 0,
        },
        {
            "title": _("Enrolled devices"),
            "url": reverse("mdm:devices"),
            "done": count("mdm.Device") > 0,
        },
    ]


class AuditLogView(TenantMemberRequiredMixin, TenantObjectMixin, ListView):
    model = AuditEvent
    template_name = "portal/audit_log.html"
    paginate_by = 50


class AuditEventDetailView(TenantMemberRequiredMixin, TenantObjectMixin, DetailView):
    model = AuditEvent
    template_name = "portal/audit_event.html"


class ApiTokenView(TenantAdminRequiredMixin, TemplateView):
    """Issue and revoke REST API tokens for the acting tenant (shown once)."""

    template_name = "portal/api_tokens.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["tokens"] = ApiToken.objects.filter(
            account=self.request.user, tenant=self.request.tenant
        ).order_by("-created_at")
        return context

    def post(self, request):
        if "revoke" in request.POST:
            token = ApiToken.objects.filter(
                pk=request.POST.get("revoke"), account=request.user, tenant=request.tenant
            ).first()
            if token is None:
                raise Http404("Unknown token")
            token.delete()
            record(request.user, "api_token.revoke", tenant=request.tenant, name=token.name)
            messages.success(request, _("Token revoked."))
            return redirect("portal:api-tokens")
        name = (request.POST.get("name") or "").strip()[:100]
        if not name:
            messages.error(request, _("Give the token a name so you can recognise it later."))
            return redirect("portal:api-tokens")
        token, raw = ApiToken.issue(request.user, request.tenant, name)
        record(request.user, "api_token.issue", tenant=request.tenant, name=name)
        return self.render_to_response(self.get_context_data(new_token=raw))


def healthz(request):
    """Liveness for the proxy and orchestrator: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def page_not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    from django.views import defaults

    return defaults.page_not_found(request, exception)
