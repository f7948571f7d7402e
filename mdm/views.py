"""Admin pages of the mdm app: device tiles, device detail, device removal (apps: app_views,
tags: tag_views)."""

import json

from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DeleteView, DetailView, ListView

from enrollment.models import Invitation
from users.tenancy import TenantAdminRequiredMixin, TenantMemberRequiredMixin, TenantObjectMixin

from . import desired, device_labels, device_settings, profile_delivery, queue, removal, tasks
from .commands import REGISTRY, CommandError
from .device_pages import (
    LIST_PAGE_SIZE,
    TILE_FIELDS,
    InvalidCursor,
    device_page,
    device_total,
    encode_cursor,
    search_devices,
)
from .forms import BulkTagForm, DeviceSettingsForm
from .models import Command, Device
from .timeline import timeline


class DeviceListView(TenantMemberRequiredMixin, TenantObjectMixin, ListView):
    model = Device
    template_name = "mdm/device_list.html"
    context_object_name = "devices"

    def get_queryset(self):
        queryset = (
            super()
            .get_queryset()
            .select_related("user")
            .only(*TILE_FIELDS)
            .prefetch_related("tags")
        )
        q = self.request.GET.get("q", "").strip()
        if q:
            queryset = search_devices(queryset, self.request.tenant, q)
        return queryset

    def get_context_data(self, **kwargs):
        q = self.request.GET.get("q", "").strip()
        cursor = self.request.GET.get("cursor") or None
        if self.request.GET.get("page") == "last":
            cursor = encode_cursor("last")
        try:
            page = device_page(self.object_list, cursor, LIST_PAGE_SIZE)
        except InvalidCursor:  # tampered or stale: start over
            page = device_page(self.object_list, None, LIST_PAGE_SIZE)
        renewal_enabled = self.request.tenant.apple_reenrollment_enabled
        held_back = desired.held_back(page.devices)
        for device in page.devices:
            device.labels = device_labels.labels(device, renewal_enabled=renewal_enabled)
            device.held_back = held_back.get(device.pk)
        if not q:
            total, exact = device_total(self.object_list, self.request.tenant)
        elif page.is_first and page.is_last:  # a search's results on one page: no count
            total, exact = len(page.devices), True
        else:  # counting a search's matches costs as much as a full scan: no total
            total, exact = None, False
        context = super().get_context_data(object_list=page.devices, **kwargs)
        context["page"] = page
        context["total"] = total
        context["total_exact"] = exact
        context["view_mode"] = "list" if self.request.GET.get("view") == "list" else "tiles"
        context["invitation_kinds"] = Invitation.Kind.choices
        return context


class DeviceDetailView(TenantMemberRequiredMixin, TenantObjectMixin, DetailView):
    model = Device
    template_name = "mdm/device_detail.html"
    context_object_name = "device"

    def get_queryset(self):
        return super().get_queryset().select_related("user", "session")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        device = self.object
        context["labels"] = device_labels.labels(
            device, renewal_enabled=self.request.tenant.apple_reenrollment_enabled
        )
        context["events"] = timeline(device)
        context["commands"] = device.commands.select_related("requested_by")[:50]
        context["open_commands"] = list(
            device.commands.filter(status__in=Command.OPEN).order_by("-priority", "id")[:50]
        )
        context["pending"] = queue.pending_count(device)
        context["apps"] = device.apps.all()[:500]
        context["profiles"] = profile_delivery.overview(device)
        context["held_back"] = desired.held_back([device]).get(device.pk)
        context["command_types"] = sorted(REGISTRY)
        context["tags"] = list(device.tags.all())
        context["direct_profiles"] = list(device.direct_profiles.all())
        if self.request.user.can_write:
            context["settings_form"] = kwargs.get("settings_form") or DeviceSettingsForm(
                device=device
            )
        return context


def _device(request, pk) -> Device:
    return get_object_or_404(Device.objects.for_tenant(request.tenant), pk=pk)


class DeviceSettingsView(TenantAdminRequiredMixin, View):
    """The tile's configuration: portal name, tags, directly assigned profiles."""

    def post(self, request, pk):
        device = _device(request, pk)
        form = DeviceSettingsForm(request.POST, device=device)
        if not form.is_valid():
            view = DeviceDetailView(request=request, kwargs={"pk": pk}, object=device)
            context = view.get_context_data(settings_form=form)
            return view.render_to_response(context, status=400)
        with transaction.atomic():
            ids = device_settings.update_device(
                device,
                account=request.user,
                name=form.cleaned_data["name"],
                tag_names=form.cleaned_data["tag_names"],
                profiles=form.cleaned_data["profiles"],
            )
            tasks.push_after_commit(ids)
        messages.success(request, _("Device settings saved."))
        return redirect("mdm:device", pk=pk)


class DeviceCancelCommandView(TenantAdminRequiredMixin, View):
    """Cancel one command the device has not answered."""

    def post(self, request, pk, command):
        device = _device(request, pk)
        canceled = Command.objects.filter(
            device=device, uuid=command, status__in=Command.OPEN
        ).update(status=Command.Status.CANCELED)
        if canceled:
            messages.success(request, _("Command canceled."))
        else:
            messages.error(request, _("The command was answered or canceled already."))
        return redirect("mdm:device", pk=pk)


class DeviceRefreshView(TenantAdminRequiredMixin, View):
    """Refresh inventory: the inventory commands are queued and the device is pushed."""

    def post(self, request, pk):
        device = _device(request, pk)
        if not device.is_manageable:
            messages.error(request, _("The device is not enrolled."))
        else:
            with transaction.atomic():
                queue.request_inventory(device, origin=Command.Origin.ADMIN, account=request.user)
                tasks.push_after_commit([device.pk])
            messages.success(request, _("Inventory requested; the device reports when it wakes."))
        return redirect("mdm:device", pk=pk)


class DeviceCommandView(TenantAdminRequiredMixin, View):
    """Send one command by name, with its arguments as JSON (Apple's key names)."""

    def post(self, request, pk):
        device = _device(request, pk)
        try:
            raw = request.POST.get("arguments", "").strip() or "{}"
            try:
                arguments = json.loads(raw)
            except ValueError as exc:
                raise CommandError(_("The arguments are not valid JSON.")) from exc
            with transaction.atomic():
                command = queue.enqueue_request(
                    device,
                    request.POST.get("request_type", ""),
                    arguments,
                    origin=Command.Origin.ADMIN,
                    account=request.user,
                )
                tasks.push_after_commit([device.pk])
        except CommandError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("%(command)s queued.") % {"command": command.request_type})
        return redirect("mdm:device", pk=pk)


class DeviceRemoveView(TenantAdminRequiredMixin, TenantObjectMixin, DeleteView):
    model = Device
    template_name = "mdm/device_confirm_remove.html"

    def form_valid(self, form):
        with transaction.atomic():
            queued = removal.remove_management(self.object, account=self.request.user)
            if queued:
                tasks.push_after_commit([self.object.pk])
        if queued:
            messages.success(
                self.request,
                _("Removal queued: the device removes management when it next connects."),
            )
        else:
            messages.success(self.request, _("Device removed."))
        return redirect("mdm:devices")


class DeviceBulkView(TenantAdminRequiredMixin, View):
    """Bulk actions on the selected devices: add or remove a tag, refresh inventory, remove
    management."""

    def post(self, request):
        devices = list(
            Device.objects.for_tenant(request.tenant)
            .filter(pk__in=request.POST.getlist("selected"))
            .select_related("tenant")
        )
        action = request.POST.get("action")
        if not devices:
            messages.error(request, _("Select at least one device."))
        elif action == "refresh":
            with transaction.atomic():
                ids = [d.pk for d in devices if d.is_manageable]
                for device in devices:
                    if device.is_manageable:
                        queue.request_inventory(
                            device, origin=Command.Origin.ADMIN, account=request.user
                        )
                tasks.push_after_commit(ids)
            messages.success(
                request, _("Inventory requested for %(count)s devices.") % {"count": len(ids)}
            )
        elif action in ("add_tag", "remove_tag"):
            form = BulkTagForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("Type the tag's name."))
            else:
                change = (
                    device_settings.add_tag if action == "add_tag" else device_settings.remove_tag
                )
                with transaction.atomic():
                    ids = change(devices, form.cleaned_data["tag"], account=request.user)
                    tasks.push_after_commit(ids)
                text = (
                    _("Tag %(tag)s added to %(count)s devices.")
                    if action == "add_tag"
                    else _("Tag %(tag)s removed from %(count)s devices.")
                )
                messages.success(
                    request, text % {"tag": form.cleaned_data["tag"], "count": len(devices)}
                )
        elif action == "remove":
            with transaction.atomic():
                ids = [d.pk for d in devices if removal.remove_management(d, account=request.user)]
                tasks.push_after_commit(ids)
            messages.success(
                request, _("Removal queued for %(count)s devices.") % {"count": len(devices)}
            )
        else:
            messages.error(request, _("Unknown action."))
        return redirect(f"{reverse('mdm:devices')}?view=list")
