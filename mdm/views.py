"""Admin pages of the mdm app (placeholders until the devices and apps issues fill them)."""

from django.views.generic import TemplateView

from users.tenancy import TenantMemberRequiredMixin


class DeviceListView(TenantMemberRequiredMixin, TemplateView):
    template_name = "portal/empty_section.html"
    extra_context = {"section": "devices"}


class AppListView(TenantMemberRequiredMixin, TemplateView):
    template_name = "portal/empty_section.html"
    extra_context = {"section": "apps"}
