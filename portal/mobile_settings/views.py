"""Mobile Security -> Settings (placeholder until the settings issue fills it)."""

from django.views.generic import TemplateView

from users.tenancy import TenantMemberRequiredMixin


class SettingsView(TenantMemberRequiredMixin, TemplateView):
    template_name = "portal/empty_section.html"
    extra_context = {"section": "settings"}
