"""Users section (placeholder until the users issue fills it)."""

from django.views.generic import TemplateView

from .tenancy import TenantMemberRequiredMixin


class UserListView(TenantMemberRequiredMixin, TemplateView):
    template_name = "portal/empty_section.html"
    extra_context = {"section": "users"}
