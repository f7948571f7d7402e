"""Tenant scoping: the one mechanism that keeps each tenant's rows to itself.

Every tenant-owned model inherits ``TenantOwned``; views use the mixins below and the API
uses ``users.api.TenantScopedViewSet``. A row of another tenant is never found (404), so a
response never confirms that it exists.
"""

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, tenant):
        if tenant is None:
            return self.none()
        return self.filter(tenant=tenant)


class TenantOwned(models.Model):
    tenant = models.ForeignKey("users.Tenant", on_delete=models.CASCADE, related_name="+")

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


class TenantMemberRequiredMixin:
    """Signed-in portal account acting for a tenant (any role may read)."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            # Imported here: models import this module before the auth app is ready.
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path())
        if request.tenant is None:
            raise Http404("No tenant selected")
        return super().dispatch(request, *args, **kwargs)


class TenantAdminRequiredMixin(TenantMemberRequiredMixin):
    """Writes need a role that may change the tenant (not read-only)."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.can_write:
            raise PermissionDenied("Read-only accounts cannot change anything.")
        return super().dispatch(request, *args, **kwargs)


class TenantObjectMixin:
    """For Django's generic views: querysets scoped to ``request.tenant``, new rows tagged."""

    def get_queryset(self):
        return self.model.objects.for_tenant(self.request.tenant)

    def form_valid(self, form):
        instance = getattr(form, "instance", None)  # DeleteView's form has none
        if instance is not None and getattr(instance, "tenant_id", None) is None:
            form.instance.tenant = self.request.tenant
        return super().form_valid(form)
