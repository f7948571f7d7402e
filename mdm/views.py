"""Admin pages of the mdm app: device tiles, device detail, device removal, apps."""

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import DeleteView, DetailView, ListView, TemplateView

from enrollment.models import Invitation
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


class AppListView(TenantMemberRequiredMixin, TemplateView):
    template_name = "portal/empty_section.html"
    extra_context = {"section": "apps"}
