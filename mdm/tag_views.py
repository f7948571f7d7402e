"""Admin pages of the tags (app groups): list, create, edit, a tag's members and apps with
whether their licences suffice, delete; a device's tags and direct apps."""

from django.contrib import messages
from django.db import transaction
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, ListView

from users.audit import record
from users.models import ManagedUser, Tag
from users.tenancy import TenantAdminRequiredMixin, TenantMemberRequiredMixin, TenantObjectMixin

from . import app_reach
from .forms import DeviceAppForm, TagForm
from .models import Device

MEMBERS_SHOWN = 200


class TagListView(TenantMemberRequiredMixin, TenantObjectMixin, ListView):
    model = Tag
    template_name = "mdm/tag_list.html"
    context_object_name = "tags"
    paginate_by = 100

    def get_queryset(self):
        # Three separate counts: one query with three joins would multiply the rows.
        return super().get_queryset().order_by("name")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tags = list(context["tags"])
        ids = [t.pk for t in tags]
        counts = {}
        for name, model in (("users", ManagedUser), ("devices", Device)):
            counts[name] = dict(
                model.tags.through.objects.filter(tag_id__in=ids)
                .values("tag_id")
                .annotate(n=Count("pk"))
                .values_list("tag_id", "n")
            )
        apps = dict(Tag.objects.filter(pk__in=ids).annotate(n=Count("apps")).values_list("pk", "n"))
        for tag in tags:
            tag.user_count = counts["users"].get(tag.pk, 0)
            tag.device_count = counts["devices"].get(tag.pk, 0)
            tag.app_count = apps.get(tag.pk, 0)
        context["tags"] = tags
        return context


class TagFormView(TenantAdminRequiredMixin, View):
    template_name = "mdm/tag_form.html"

    def _tag(self, request, pk):
        if pk is None:
            return None
        return get_object_or_404(Tag.objects.for_tenant(request.tenant), pk=pk)

    def get(self, request, pk=None):
        tag = self._tag(request, pk)
        form = TagForm(instance=tag, tenant=request.tenant)
        return render(request, self.template_name, {"form": form, "tag": tag})

    def post(self, request, pk=None):
        tag = self._tag(request, pk)
        form = TagForm(request.POST, instance=tag, tenant=request.tenant)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form, "tag": tag}, status=400)
        tag = form.save()
        record(request.user, "tag.updated" if pk else "tag.created", tag)
        messages.success(request, _("Tag %(name)s saved.") % {"name": tag.name})
        return redirect("mdm:tag", pk=tag.pk)


class TagDetailView(TenantMemberRequiredMixin, TenantObjectMixin, DetailView):
    model = Tag
    template_name = "mdm/tag_detail.html"
    context_object_name = "tag"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tag = self.object
        users = tag.users.order_by("username")
        devices = tag.devices.select_related("user").order_by("-last_seen_at", "pk")
        apps = list(tag.apps.select_related("asset").prefetch_related("tags"))
        for app in apps:
            app.counts = app_reach.licence_counts(app)
        context.update(
            users=users[:MEMBERS_SHOWN],
            user_count=users.count(),
            devices=devices[:MEMBERS_SHOWN],
            device_count=devices.count(),
            apps=apps,
            members_shown=MEMBERS_SHOWN,
        )
        return context


class TagDeleteView(TenantAdminRequiredMixin, View):
    template_name = "mdm/tag_confirm_delete.html"

    def _tag(self, request, pk):
        return get_object_or_404(Tag.objects.for_tenant(request.tenant), pk=pk)

    def get(self, request, pk):
        tag = self._tag(request, pk)
        context = {
            "tag": tag,
            "user_count": tag.users.count(),
            "device_count": tag.devices.count(),
            "apps": list(tag.apps.select_related("asset")),
        }
        return render(request, self.template_name, context)

    def post(self, request, pk):
        tag = self._tag(request, pk)
        with transaction.atomic():
            record(request.user, "tag.deleted", tag)
            # mdm.receivers marks the devices it reached due and pushes them.
            tag.delete()
        messages.success(request, _("Tag %(name)s deleted.") % {"name": tag.name})
        return redirect("mdm:tags")


def _device(request, pk) -> Device:
    return get_object_or_404(Device.objects.for_tenant(request.tenant), pk=pk)


class DeviceAppView(TenantAdminRequiredMixin, View):
    """Assign an app to the device directly, or take the direct assignment back."""

    def post(self, request, pk):
        device = _device(request, pk)
        form = DeviceAppForm(request.POST, tenant=request.tenant)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect("mdm:device", pk=pk)
        app = form.cleaned_data["app"]
        with transaction.atomic():
            if form.cleaned_data["action"] == "assign":
                app.devices.add(device)
                text = _("%(app)s assigned to this device.")
            else:
                app.devices.remove(device)
                text = _("%(app)s no longer assigned to this device directly.")
            # mdm.receivers marks the device due, pushes it and runs the app's licences.
            record(request.user, "device.apps_changed", device, app=app.adam_id)
        messages.success(request, text % {"app": app})
        return redirect("mdm:device", pk=pk)
