"""Admin pages of Mobile Security → Apps: the catalogue (tiles and list), Add app, an app's
page with its licences per user and installations per device, its settings."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, ListView

from apple.models import VppToken
from users.audit import record
from users.tenancy import TenantAdminRequiredMixin, TenantMemberRequiredMixin, TenantObjectMixin

from . import app_catalogue, app_reach, tasks
from .forms import AddAppForm, AppSettingsForm
from .models import App, AppInstallation, Licence

PAGE_SIZE = 60
ROWS_PER_PAGE = 100
ASSET_RESULTS = 20


class AppListView(TenantMemberRequiredMixin, TenantObjectMixin, ListView):
    model = App
    template_name = "mdm/app_list.html"
    context_object_name = "apps"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        apps = super().get_queryset().select_related("asset").prefetch_related("tags")
        if q := self.request.GET.get("q", "").strip():
            apps = apps.filter(Q(name__icontains=q) | Q(adam_id=q) | Q(bundle_id__icontains=q))
        return apps

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant = self.request.tenant
        context["view_mode"] = "list" if self.request.GET.get("view") == "list" else "tiles"
        context["has_token"] = VppToken.objects.for_tenant(tenant).exists()
        if self.request.user.can_write:
            context["add_form"] = AddAppForm(tenant=tenant)
        return context


class AppAssetSearchView(TenantAdminRequiredMixin, View):
    """The Add app dialog's search over the synced Apps and Books assets (JSON)."""

    def get(self, request):
        q = request.GET.get("q", "").strip()[:100]
        results = [
            {
                "adam_id": row["adam_id"],
                "label": row["name"] or row["adam_id"],
                "platforms": row["platforms"],
                "counts": _("%(available)s of %(total)s licences available")
                % {"available": row["available"], "total": row["total"]},
                "in_catalogue": row["in_catalogue"],
            }
            for row in app_catalogue.search_assets(request.tenant, q, limit=ASSET_RESULTS)
        ]
        no_match = _("No synchronised app matches “%(q)s”.") % {"q": q} if q and not results else ""
        return JsonResponse(
            {
                "results": results,
                "no_match": no_match,
                "in_catalogue_label": _("in the catalogue"),
            }
        )


class AppAddView(TenantAdminRequiredMixin, View):
    template_name = "mdm/app_add.html"

    def get(self, request):
        return render(request, self.template_name, {"form": AddAppForm(tenant=request.tenant)})

    def post(self, request):
        form = AddAppForm(request.POST, tenant=request.tenant)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form}, status=400)
        with transaction.atomic():
            app = app_catalogue.add_app(request.tenant, form.asset.adam_id, **form.settings())
            # Its tags reach devices and users through mdm.receivers.
            record(request.user, "app.added", app)
            tasks.catalogue_changed_after_commit(app.tenant_id, app_ids=[app.pk], added=app.pk)
        messages.success(request, _("App %(name)s added.") % {"name": app})
        return redirect("mdm:app", pk=app.pk)


class AppDetailView(TenantMemberRequiredMixin, TenantObjectMixin, DetailView):
    model = App
    template_name = "mdm/app_detail.html"
    context_object_name = "app"

    def get_queryset(self):
        return super().get_queryset().select_related("asset").prefetch_related("tags")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        app = self.object
        params = self.request.GET
        licences = Licence.objects.filter(app=app).select_related("user").order_by("user__username")
        installations = (
            AppInstallation.objects.filter(app=app)
            .select_related("device", "device__user")
            .order_by("device__user__username", "device_id")
        )
        context["counts"] = app_reach.licence_counts(app)
        context["licences"] = Paginator(licences, ROWS_PER_PAGE).get_page(params.get("licences"))
        context["installations"] = Paginator(installations, ROWS_PER_PAGE).get_page(
            params.get("installations")
        )
        context["direct_devices"] = app.devices.select_related("user")[:100]
        return context


class AppEditView(TenantAdminRequiredMixin, View):
    template_name = "mdm/app_form.html"

    def _app(self, request, pk):
        return get_object_or_404(
            App.objects.for_tenant(request.tenant).select_related("asset"), pk=pk
        )

    def get(self, request, pk):
        app = self._app(request, pk)
        form = AppSettingsForm(instance=app, tenant=request.tenant)
        return render(request, self.template_name, {"app": app, "form": form})

    def post(self, request, pk):
        app = self._app(request, pk)
        form = AppSettingsForm(request.POST, instance=app, tenant=request.tenant)
        if not form.is_valid():
            return render(request, self.template_name, {"app": app, "form": form}, status=400)
        with transaction.atomic():
            pushed = app_catalogue.update_settings(app, **form.settings())
            record(request.user, "app.updated", app)
            tasks.catalogue_changed_after_commit(app.tenant_id, app_ids=[app.pk], push=pushed)
        messages.success(request, _("App %(name)s saved.") % {"name": app})
        return redirect("mdm:app", pk=app.pk)
