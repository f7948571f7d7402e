"""Admin pages of the mdm app: device tiles, device detail, register and invite dialogs."""

from django.contrib import messages
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DeleteView, DetailView, ListView, TemplateView

from enrollment import invitations
from enrollment.addresses import local_address
from enrollment.models import Invitation
from users.models import ManagedUser
from users.tenancy import TenantAdminRequiredMixin, TenantMemberRequiredMixin, TenantObjectMixin

from . import device_labels
from .devices import remove_device
from .models import Device
from .timeline import timeline


class DeviceListView(TenantMemberRequiredMixin, TenantObjectMixin, ListView):
    model = Device
    template_name = "mdm/device_list.html"
    context_object_name = "devices"
    paginate_by = 60

    def get_queryset(self):
        queryset = super().get_queryset().select_related("user")
        q = self.request.GET.get("q", "").strip()
        if q:
            queryset = queryset.filter(
                Q(user__username__icontains=q)
                | Q(user__last_name__icontains=q)
                | Q(product_name__icontains=q)
            )
        return device_labels.with_terms_state(queryset, self.request.tenant)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for device in context["devices"]:
            device.labels = device_labels.labels(device)
        context["view_mode"] = "list" if self.request.GET.get("view") == "list" else "tiles"
        context["invitation_kinds"] = Invitation.Kind.choices
        return context


class DeviceDetailView(TenantMemberRequiredMixin, TenantObjectMixin, DetailView):
    model = Device
    template_name = "mdm/device_detail.html"
    context_object_name = "device"

    def get_queryset(self):
        return device_labels.with_terms_state(
            super().get_queryset().select_related("user", "session"), self.request.tenant
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["labels"] = device_labels.labels(self.object)
        context["events"] = timeline(self.object)
        return context


class DeviceRemoveView(TenantAdminRequiredMixin, TenantObjectMixin, DeleteView):
    model = Device
    template_name = "mdm/device_confirm_remove.html"

    def form_valid(self, form):
        remove_device(self.object, account=self.request.user)
        messages.success(self.request, _("Device removed."))
        return redirect("mdm:devices")


def _eligible_users(tenant):
    return (
        ManagedUser.objects.for_tenant(tenant).filter(is_active=True).exclude(managed_apple_id="")
    )


class RegisterUserSearchView(TenantMemberRequiredMixin, View):
    """Users the Register/Invite dialogs can pick, with their local account addresses."""

    def get(self, request):
        q = request.GET.get("q", "").strip()
        users = _eligible_users(request.tenant)
        if q:
            users = users.filter(
                Q(username__icontains=q)
                | Q(first_name__icontains=q)
                | Q(last_name__icontains=q)
                | Q(managed_apple_id__icontains=q)
            )
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
        return JsonResponse({"results": results})


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
        return JsonResponse(
            {
                "ok": True,
                "id": invitation.pk,
                "message": _("Invitation sent to %(email)s.") % {"email": user.email},
            }
        )


class InvitationListView(TenantMemberRequiredMixin, TenantObjectMixin, ListView):
    model = Invitation
    template_name = "mdm/invitation_list.html"
    context_object_name = "invitations"
    paginate_by = 50

    def get_queryset(self):
        return super().get_queryset().select_related("user", "invited_by")


class InvitationResendView(TenantAdminRequiredMixin, View):
    def post(self, request, pk):
        invitation = get_object_or_404(Invitation.objects.for_tenant(request.tenant), pk=pk)
        invitations.resend(invitation, account=request.user)
        messages.success(request, _("Invitation sent again."))
        return redirect("mdm:invitations")


class AppListView(TenantMemberRequiredMixin, TemplateView):
    template_name = "portal/empty_section.html"
    extra_context = {"section": "apps"}
