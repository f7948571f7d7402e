"""Admin pages of enrollment: iOS/iPadOS profiles, the terms of use, invitations and the user
picker of the Register new device / Send invitation dialogs on the Devices page."""

from django.contrib import messages
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse, reverse_lazy
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import CreateView, DeleteView, FormView, ListView, UpdateView

from users.audit import record
from users.models import ManagedUser
from users.tenancy import TenantAdminRequiredMixin, TenantMemberRequiredMixin, TenantObjectMixin

from . import configuration_profiles, invitations, tasks
from . import terms as terms_service
from .addresses import local_address
from .forms import ProfileForm, TermsForm
from .models import Invitation, Profile


class ProfileListView(TenantMemberRequiredMixin, TenantObjectMixin, ListView):
    model = Profile
    template_name = "enrollment/profile_list.html"
    context_object_name = "profiles"

    def get_queryset(self):
        return super().get_queryset().prefetch_related("tags")


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

    def get(self, request, *args, **kwargs):
        profile = get_object_or_404(self.get_queryset(), pk=kwargs["pk"])
        if profile.kind == Profile.Kind.CONFIGURATION:
            return redirect("enrollment:configuration-edit", pk=profile.pk)
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.request.method == "POST":
            return queryset.filter(kind=Profile.Kind.USER_REGISTRATION)
        return queryset


class ProfileDeleteView(TenantAdminRequiredMixin, TenantObjectMixin, DeleteView):
    model = Profile
    template_name = "enrollment/profile_confirm_delete.html"
    success_url = reverse_lazy("enrollment:profiles")

    def form_valid(self, form):
        record(self.request.user, "profile.deleted", self.object)
        messages.success(self.request, _("Profile deleted."))
        if self.object.kind == Profile.Kind.CONFIGURATION:
            # Through the service: the devices of its tags must lose it.
            configuration_profiles.delete_profile(self.object)
            return redirect(self.success_url)
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


def _eligible_users(tenant):
    return (
        ManagedUser.objects.for_tenant(tenant).filter(is_active=True).exclude(managed_apple_id="")
    )


class RegisterUserSearchView(TenantMemberRequiredMixin, View):
    """Users the Register/Invite dialogs can pick, with their local account addresses.

    Users without a managed Apple ID cannot enroll and are not offered; the answer says how
    many of them match, so the dialog can explain why they are missing and link to the fix.
    """

    def get(self, request):
        q = request.GET.get("q", "").strip()
        matching = ManagedUser.objects.for_tenant(request.tenant).filter(is_active=True)
        if q:
            matching = matching.filter(
                Q(username__icontains=q)
                | Q(first_name__icontains=q)
                | Q(last_name__icontains=q)
                | Q(email__icontains=q)
                | Q(managed_apple_id__icontains=q)
            )
        users = matching.exclude(managed_apple_id="")
        results = [
            {
                "id": u.pk,
                "label": f"{u.display_name} ({u.managed_apple_id})",
                "address": local_address(u),
                "has_password": u.has_enrollment_password,
                "has_email": bool(u.email),
            }
            for u in users.select_related("tenant")[:20]
        ]
        without = matching.filter(managed_apple_id="").count()
        answer = {"results": results, "without_apple_id": without}
        if not results:
            answer["no_match"] = (
                _("No user with a managed Apple ID matches “%(q)s”.") % {"q": q}
                if q
                else _("No user with a managed Apple ID yet.")
            )
        if without:
            answer["without_apple_id_message"] = ngettext(
                "%(count)d matching user has no managed Apple ID and cannot enroll yet.",
                "%(count)d matching users have no managed Apple ID and cannot enroll yet.",
                without,
            ) % {"count": without}
            answer["fix_url"] = (
                reverse("users:list")
                + "?"
                + urlencode({"apple_id": "missing", "q": q} if q else {"apple_id": "missing"})
            )
            answer["fix_label"] = _("Add the managed Apple ID")
        return JsonResponse(answer)


class InviteView(TenantAdminRequiredMixin, View):
    """Send invitation: JSON in and out, so *Invite more* keeps the dialog open."""

    def post(self, request):
        user = _eligible_users(request.tenant).filter(pk=request.POST.get("user") or 0).first()
        if user is None:
            return JsonResponse({"error": _("Pick a user with a managed Apple ID.")}, status=400)
        kind = request.POST.get("kind", Invitation.Kind.ACCOUNT_USER_ENROLLMENT)
        if kind not in Invitation.Kind.values:
            return JsonResponse({"error": _("Unknown enrollment type.")}, status=400)
        try:
            invitation = invitations.invite(request.tenant, user, account=request.user, kind=kind)
        except invitations.InvitationError as exc:
            return JsonResponse({"error": str(exc)}, status=400)
        tasks.mail_invitation_after_commit(invitation)
        message = _("Invitation sent to %(name)s (%(email)s).") % {
            "name": user.display_name,
            "email": user.email,
        }
        if request.POST.get("then") == "close":  # the page reloads and shows it
            messages.success(request, message)
        return JsonResponse({"ok": True, "id": invitation.pk, "message": message})


class InvitationListView(TenantMemberRequiredMixin, TenantObjectMixin, ListView):
    model = Invitation
    template_name = "enrollment/invitation_list.html"
    context_object_name = "invitations"
    paginate_by = 50

    def get_queryset(self):
        return super().get_queryset().select_related("user", "invited_by")


class InvitationResendView(TenantAdminRequiredMixin, View):
    def post(self, request, pk):
        invitation = get_object_or_404(Invitation.objects.for_tenant(request.tenant), pk=pk)
        invitations.resend(invitation, account=request.user)
        tasks.mail_invitation_after_commit(invitation)
        messages.success(request, _("Invitation sent again."))
        return redirect("invitations:list")
