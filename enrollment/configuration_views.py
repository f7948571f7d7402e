"""Admin pages of configuration profiles: the tabbed editor (General and one tab per payload
category), and the import of a ``.mobileconfig`` with a preview before anything is saved."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.debug import sensitive_post_parameters

from users.audit import record
from users.fields import decrypt, encrypt
from users.tags import split_names, tags_for_names
from users.tenancy import TenantAdminRequiredMixin, TenantMemberRequiredMixin

from . import configuration_profiles, payload_catalogue, profile_import
from .forms import ConfigurationProfileForm, ImportForm
from .payload_forms import payload_form_class

IMPORT_SESSION_KEY = "enrollment.profile_import"


def _tabs(counts=None):
    """(slug, label, number of payloads) of every tab."""
    counts = counts or {}
    categories = payload_catalogue.CATEGORIES
    return [("general", _("General"), 0)] + [
        (slug, label, counts.get(slug, 0)) for slug, label, *_rest in categories
    ]


def _category(slug):
    for entry in payload_catalogue.CATEGORIES:
        if entry[0] == slug:
            return entry
    return None


class ConfigurationProfileCreateView(TenantAdminRequiredMixin, View):
    template_name = "enrollment/configuration_profile_form.html"

    def get(self, request):
        form = ConfigurationProfileForm(tenant=request.tenant)
        return render(request, self.template_name, {"form": form, "tabs": _tabs()})

    def post(self, request):
        form = ConfigurationProfileForm(request.POST, tenant=request.tenant)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form, "tabs": _tabs()})
        profile = form.save()
        record(request.user, "profile.created", profile)
        messages.success(request, _("Profile saved. Add payloads in the tabs."))
        return redirect("enrollment:configuration-edit", pk=profile.pk)


@method_decorator(sensitive_post_parameters(), name="post")
class ConfigurationProfileEditView(TenantMemberRequiredMixin, View):
    """One tab at a time (``?tab=``); each form posts its ``action`` to this URL."""

    template_name = "enrollment/configuration_profile_edit.html"

    def get_profile(self, pk):
        profiles = configuration_profiles.configuration_profiles(self.request.tenant)
        return get_object_or_404(profiles, pk=pk)

    def get(self, request, pk):
        profile = self.get_profile(pk)
        tab = request.GET.get("tab", "general")
        return self.show(profile, tab, add=request.GET.get("add"))

    def show(self, profile, tab, *, general_form=None, bound=None, add=None, status=200):
        category = _category(tab)
        if category is None:
            tab = "general"
        payloads = list(profile.payloads.all())
        counts = {}
        for payload in payloads:
            slug = payload_catalogue.category_of(payload.payload_type)
            counts[slug] = counts.get(slug, 0) + 1
        context = {"profile": profile, "object": profile, "tab": tab, "tabs": _tabs(counts)}
        if category is None:
            context["form"] = general_form or ConfigurationProfileForm(
                instance=profile, tenant=self.request.tenant
            )
        else:
            slug, label, help_text, types = category
            context.update(category_label=label, category_help=help_text)
            context["add_choices"] = [(t, payload_catalogue.title(t)) for t in types]
            entries = []
            for payload in payloads:
                if payload_catalogue.category_of(payload.payload_type) != slug:
                    continue
                is_bound = bound is not None and bound.payload == payload
                form = (
                    bound
                    if is_bound
                    else payload_form_class(payload.payload_type)(
                        payload=payload, prefix=f"p{payload.pk}"
                    )
                )
                entries.append(self._entry(payload.payload_type, form, payload))
            if bound is not None and bound.payload is None:
                entries.append(self._entry(bound.payload_type, bound, None))
            elif add in types:
                form = payload_form_class(add)(prefix="new")
                entries.append(self._entry(add, form, None))
            context["entries"] = entries
        return render(self.request, self.template_name, context, status=status)

    @staticmethod
    def _entry(payload_type, form, payload):
        return {
            "payload": payload,
            "payload_type": payload_type,
            "title": payload_catalogue.title(payload_type),
            "docs_url": payload_catalogue.docs_url(payload_type),
            "form": form,
        }

    def post(self, request, pk):
        if not request.user.can_write:
            raise PermissionDenied("Read-only accounts cannot change anything.")
        profile = self.get_profile(pk)
        action = request.POST.get("action")
        tab = request.POST.get("tab", "general")
        if action == "general":
            form = ConfigurationProfileForm(request.POST, instance=profile, tenant=request.tenant)
            if not form.is_valid():
                return self.show(profile, "general", general_form=form, status=400)
            with transaction.atomic():
                form.save()
        elif action in ("save-payload", "create-payload"):
            response = self._save_payload(request, profile, action, tab)
            if response is not None:
                return response
        elif action == "remove-payload":
            payload = get_object_or_404(profile.payloads, pk=request.POST.get("payload"))
            with transaction.atomic():
                payload.delete()
                configuration_profiles.saved(profile)
        else:
            return self.show(profile, tab, status=400)
        record(request.user, "profile.updated", profile)
        messages.success(request, _("Profile saved."))
        url = reverse("enrollment:configuration-edit", args=[profile.pk])
        return redirect(f"{url}?tab={tab}")

    def _save_payload(self, request, profile, action, tab):
        if action == "create-payload":
            payload_type = request.POST.get("payload_type", "")
            if payload_type not in payload_catalogue.payload_types():
                return self.show(profile, tab, status=400)
            form = payload_form_class(payload_type)(request.POST, request.FILES, prefix="new")
        else:
            payload = get_object_or_404(profile.payloads, pk=request.POST.get("payload"))
            form_class = payload_form_class(payload.payload_type)
            form = form_class(request.POST, request.FILES, payload=payload, prefix=f"p{payload.pk}")
        if not form.is_valid():
            return self.show(profile, tab, bound=form, status=400)
        with transaction.atomic():
            form.save(profile)
            configuration_profiles.saved(profile)
        return None


class ProfileImportView(TenantAdminRequiredMixin, View):
    """Upload, then a key-by-key report; saving re-reads the file kept (encrypted) in the
    session, so nothing is stored until the admin confirms."""

    template_name = "enrollment/profile_import.html"

    def get(self, request):
        return render(request, self.template_name, {"form": ImportForm()})

    def post(self, request):
        if "confirm" in request.POST:
            return self.confirm(request)
        form = ImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form}, status=400)
        upload = form.cleaned_data["file"]
        data = upload.read(profile_import.MAX_FILE + 1)
        result = profile_import.read_profile(data)
        if result.can_save:
            request.session[IMPORT_SESSION_KEY] = encrypt(data)
        context = {"form": form, "result": result, "tag_names": ""}
        return render(request, self.template_name, context, status=200 if result.can_save else 400)

    def confirm(self, request):
        stored = request.session.pop(IMPORT_SESSION_KEY, None)
        if not stored:
            messages.error(request, _("The upload has expired; upload the file again."))
            return redirect("enrollment:profile-import")
        result = profile_import.read_profile(decrypt(stored))
        if not result.can_save:
            raise Http404("the stored upload is no longer valid")
        tags = tags_for_names(request.tenant, split_names(request.POST.get("tag_names", "")))
        with transaction.atomic():
            profile = profile_import.save(request.tenant, result, tags=tags)
            record(request.user, "profile.created", profile)
        messages.success(request, _("Profile imported."))
        return redirect("enrollment:configuration-edit", pk=profile.pk)
