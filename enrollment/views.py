"""Admin pages of enrollment: iOS/iPadOS profiles and the terms of use."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.generic import CreateView, DeleteView, FormView, ListView, UpdateView

from users.audit import record
from users.tenancy import TenantAdminRequiredMixin, TenantMemberRequiredMixin, TenantObjectMixin

from . import terms as terms_service
from .forms import ProfileForm, TermsForm
from .models import Profile


class ProfileListView(TenantMemberRequiredMixin, TenantObjectMixin, ListView):
    model = Profile
    template_name = "enrollment/profile_list.html"
    context_object_name = "profiles"


class ProfileFormMixin(TenantAdminRequiredMixin, TenantObjectMixin):
    model = Profile
    form_class = ProfileForm
    template_name = "enrollment/profile_form.html"
    success_url = reverse_lazy("enrollment:profiles")

    def form_valid(self, form):
        form.instance.tenant = self.request.tenant
        response = super().form_valid(form)
        record(self.request.user, self.audit_action, self.object)
        messages.success(self.request, _("Profile saved."))
        return response


class ProfileCreateView(ProfileFormMixin, CreateView):
    audit_action = "profile.created"


class ProfileUpdateView(ProfileFormMixin, UpdateView):
    audit_action = "profile.updated"


class ProfileDeleteView(TenantAdminRequiredMixin, TenantObjectMixin, DeleteView):
    model = Profile
    template_name = "enrollment/profile_confirm_delete.html"
    success_url = reverse_lazy("enrollment:profiles")

    def form_valid(self, form):
        record(self.request.user, "profile.deleted", self.object)
        messages.success(self.request, _("Profile deleted."))
        return super().form_valid(form)


class TermsView(TenantMemberRequiredMixin, FormView):
    """The tenant's terms of use: publishing a new version labels every device again."""

    form_class = TermsForm
    template_name = "enrollment/terms.html"

    def get_initial(self):
        current = terms_service.current_terms(self.request.tenant)
        return {"text_en": current.text_en, "text_de": current.text_de} if current else {}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["current"] = terms_service.current_terms(self.request.tenant)
        return context

    def post(self, request, *args, **kwargs):
        if not request.user.can_write:
            return redirect("enrollment:terms")
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        terms = terms_service.publish(
            self.request.tenant,
            text_en=form.cleaned_data["text_en"],
            text_de=form.cleaned_data["text_de"],
            account=self.request.user,
        )
        record(self.request.user, "terms.published", terms, version=terms.version)
        messages.success(
            self.request,
            _(
                "Version %(v)s published. Devices show “Terms not accepted” until their users accept it."
            )
            % {"v": terms.version},
        )
        return redirect("enrollment:terms")
