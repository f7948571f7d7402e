"""Admin pages of enrollment (placeholder until the enrollment issue fills it)."""

from django.views.generic import TemplateView

from users.tenancy import TenantMemberRequiredMixin


class ProfileListView(TenantMemberRequiredMixin, TemplateView):
    template_name = "portal/empty_section.html"
    extra_context = {"section": "profiles"}
