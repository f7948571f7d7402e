"""The Users section: managed users by hand, CSV import, Microsoft Entra ID."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import CreateView, DeleteView, ListView, UpdateView

from . import signals
from .audit import record
from .forms import CsvConfirmForm, CsvUploadForm, EntraConnectionForm, ManagedUserForm
from .imports import csv_export, csv_import, csv_service, entra
from .imports import tasks as import_tasks
from .imports.models import CsvImport, EntraConnection
from .models import ManagedUser, Tag
from .signals import first_answer, managed_users_deactivated
from .tenancy import TenantAdminRequiredMixin, TenantMemberRequiredMixin, TenantObjectMixin


def device_count(users) -> int:
    """Enrolled devices of these users, as the devices app answers (0 without one)."""
    return first_answer(signals.count_enrolled_devices, 0, sender=ManagedUser, users=users)


class UserListView(TenantMemberRequiredMixin, TenantObjectMixin, ListView):
    model = ManagedUser
    template_name = "users/user_list.html"
    context_object_name = "users"
    paginate_by = 50

    def get_queryset(self):
        users = super().get_queryset().prefetch_related("tags")
        params = self.request.GET
        if q := params.get("q", "").strip():
            users = users.filter(
                Q(username__icontains=q)
                | Q(first_name__icontains=q)
                | Q(last_name__icontains=q)
                | Q(email__icontains=q)
                | Q(managed_apple_id__icontains=q)
            )
        if source := params.get("source"):
            users = users.filter(source=source)
        if params.get("active") in ("1", "0"):
            users = users.filter(is_active=params["active"] == "1")
        if tag := params.get("tag"):
            users = users.filter(tags__pk=tag)
        if params.get("apple_id") == "missing":
            users = users.filter(managed_apple_id="")
        return users.distinct()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["tags"] = Tag.objects.for_tenant(self.request.tenant)
        context["sources"] = ManagedUser.Source.choices
        query = self.request.GET.copy()
        query.pop("page", None)
        context["query"] = query.urlencode()
        return context


class UserFormMixin(TenantAdminRequiredMixin, TenantObjectMixin):
    model = ManagedUser
    form_class = ManagedUserForm
    template_name = "users/user_form.html"
    success_url = reverse_lazy("users:list")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "tenant": self.request.tenant}

    def form_valid(self, form):
        response = super().form_valid(form)
        record(self.request.user, self.audit_action, self.object)
        messages.success(self.request, _("User %(name)s saved.") % {"name": self.object.username})
        return response


class UserCreateView(UserFormMixin, CreateView):
    audit_action = "managed_user.created"


class UserUpdateView(UserFormMixin, UpdateView):
    audit_action = "managed_user.updated"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["address"] = first_answer(
            signals.local_account_address, "", sender=ManagedUser, user=self.object
        )
        return context


class UserDeleteView(TenantAdminRequiredMixin, TenantObjectMixin, DeleteView):
    model = ManagedUser
    template_name = "users/user_confirm_delete.html"
    success_url = reverse_lazy("users:list")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "devices": device_count([self.object])}

    def form_valid(self, form):
        record(self.request.user, "managed_user.deleted", self.object)
        messages.success(self.request, _("User deleted."))
        return super().form_valid(form)


class UserPasswordLinkView(TenantAdminRequiredMixin, View):
    def post(self, request, pk):
        from .tasks import send_password_link

        user = get_object_or_404(ManagedUser.objects.for_tenant(request.tenant), pk=pk)
        if not user.email:
            messages.error(request, _("The user has no e-mail address."))
        else:
            send_password_link.delay(user.pk)
            record(request.user, "managed_user.password_link_sent", user)
            messages.success(request, _("Password link sent to %(email)s.") % {"email": user.email})
        return redirect("users:edit", pk=pk)


class UserBulkView(TenantAdminRequiredMixin, View):
    """Bulk actions on the selected users of the list."""

    def post(self, request):
        users = ManagedUser.objects.for_tenant(request.tenant).filter(
            pk__in=request.POST.getlist("selected")
        )
        action = request.POST.get("action")
        count = users.count()
        if not count:
            messages.error(request, _("Select at least one user."))
        elif action in ("activate", "deactivate"):
            ids = list(users.values_list("pk", flat=True))
            users.update(is_active=action == "activate")
            if action == "deactivate":
                managed_users_deactivated.send(sender=ManagedUser, user_ids=ids)
            record(request.user, f"managed_user.bulk_{action}", tenant=request.tenant, count=count)
            messages.success(request, _("%(count)s users updated.") % {"count": count})
        elif action == "delete":
            if request.POST.get("confirm") != "yes":
                return render(
                    request,
                    "users/user_bulk_delete.html",
                    {"users": users, "devices": device_count(users)},
                )
            record(
                request.user,
                "managed_user.bulk_delete",
                tenant=request.tenant,
                count=count,
                usernames=list(users.values_list("username", flat=True)[:100]),
            )
            users.delete()
            messages.success(request, _("%(count)s users deleted.") % {"count": count})
        elif action == "password_link":
            from .tasks import send_password_link

            for pk in users.exclude(email="").filter(is_active=True).values_list("pk", flat=True):
                send_password_link.delay(pk)
            messages.success(request, _("Password links sent."))
        else:
            messages.error(request, _("Unknown action."))
        return redirect(reverse("users:list") + "?" + request.POST.get("query", ""))


class CsvImportView(TenantAdminRequiredMixin, View):
    def get(self, request):
        return render(
            request,
            "users/csv_import.html",
            {
                "form": CsvUploadForm(),
                "columns": csv_import.COLUMNS,
                "imports": CsvImport.objects.for_tenant(request.tenant)[:10],
            },
        )

    def post(self, request):
        form = CsvUploadForm(request.POST, request.FILES)
        item = None
        if form.is_valid():
            try:
                item = csv_service.start(
                    request.tenant, form.cleaned_data["file"], account=request.user
                )
            except csv_service.UploadTooLarge as exc:
                form.add_error("file", str(exc))
            else:
                import_tasks.validate_csv_import.delay(item.pk)
        if item is None:
            return render(
                request,
                "users/csv_import.html",
                {
                    "form": form,
                    "columns": csv_import.COLUMNS,
                    "imports": CsvImport.objects.for_tenant(request.tenant)[:10],
                },
                status=400,
            )
        return redirect("users:csv-import-detail", pk=item.pk)


class UserExportView(TenantMemberRequiredMixin, View):
    """All managed users of the tenant as CSV (the import's columns)."""

    def get(self, request):
        record(request.user, "users.csv_exported", tenant=request.tenant)
        return export_response(request.tenant)


def export_response(tenant):
    response = StreamingHttpResponse(
        csv_export.rows(tenant), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="users-{tenant.number}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
def csv_template(request):
    response = HttpResponse(csv_import.TEMPLATE, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="users-template.csv"'
    return response


class CsvImportDetailView(TenantMemberRequiredMixin, View):
    def _item(self, request, pk):
        return get_object_or_404(CsvImport.objects.for_tenant(request.tenant), pk=pk)

    def get(self, request, pk):
        item = self._item(request, pk)
        return render(
            request,
            "users/csv_import_detail.html",
            {"item": item, "progress": csv_service.progress(item), "form": CsvConfirmForm()},
        )

    def post(self, request, pk):
        if not request.user.can_write:
            return HttpResponse(status=403)
        item = self._item(request, pk)
        form = CsvConfirmForm(request.POST)
        if item.state != CsvImport.State.PREVIEW or not form.is_valid():
            return redirect("users:csv-import-detail", pk=pk)
        csv_service.confirm(item, form.cleaned_data["mode"], account=request.user)
        import_tasks.run_csv_import.delay(item.pk)
        return redirect("users:csv-import-detail", pk=pk)


class CsvImportStatusView(TenantMemberRequiredMixin, View):
    def get(self, request, pk):
        item = get_object_or_404(CsvImport.objects.for_tenant(request.tenant), pk=pk)
        return JsonResponse(
            {
                "state": item.state,
                "progress": csv_service.progress(item),
                "processed": item.processed_rows,
                "total": item.total_rows,
            }
        )


@method_decorator(sensitive_post_parameters("client_secret"), name="dispatch")
class EntraView(TenantAdminRequiredMixin, View):
    def _render(self, request, form, status=200):
        connection = EntraConnection.objects.for_tenant(request.tenant).first()
        return render(
            request, "users/entra.html", {"form": form, "connection": connection}, status=status
        )

    def get(self, request):
        connection = EntraConnection.objects.for_tenant(request.tenant).first()
        return self._render(request, EntraConnectionForm(instance=connection))

    def post(self, request):
        connection = EntraConnection.objects.for_tenant(request.tenant).first()
        form = EntraConnectionForm(request.POST, instance=connection)
        if not form.is_valid():
            return self._render(request, form, 400)
        form.instance.tenant = request.tenant
        connection = form.save()
        record(request.user, "entra.saved", connection, directory=connection.directory_id)
        messages.success(request, _("Microsoft Entra ID connection saved."))
        return redirect("users:entra")


class EntraTestView(TenantAdminRequiredMixin, View):
    """Starts the test as a task; the page shows it running and then its outcome."""

    def post(self, request):
        from .imports.tasks import test_entra_connection

        connection = get_object_or_404(EntraConnection.objects.for_tenant(request.tenant))
        if not entra.start(connection, EntraConnection.RunState.TESTING):
            messages.info(request, _("A test or import is already running."))
        else:
            test_entra_connection.delay(connection.pk)
        return redirect("users:entra")


class EntraSyncView(TenantAdminRequiredMixin, View):
    """Starts the import as a task; the page shows how many users have been read."""

    def post(self, request):
        from .imports.tasks import sync_entra_connection

        connection = get_object_or_404(EntraConnection.objects.for_tenant(request.tenant))
        if not entra.start(connection, EntraConnection.RunState.IMPORTING):
            messages.info(request, _("A test or import is already running."))
            return redirect("users:entra")
        record(request.user, "entra.sync_started", connection)
        sync_entra_connection.delay(connection.pk, interactive=True)  # the page shows the outcome
        return redirect("users:entra")


class EntraStatusView(TenantAdminRequiredMixin, View):
    """What the Entra page polls while a test or import runs."""

    def get(self, request):
        connection = get_object_or_404(EntraConnection.objects.for_tenant(request.tenant))
        return JsonResponse(
            {
                "running": connection.is_running,
                "state": connection.run_state,
                "progress": connection.run_progress,
            }
        )
