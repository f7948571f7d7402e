"""Mobile Security → Settings: push certificate, re-enrollment switch, Apps and Books token."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.debug import sensitive_post_parameters

from apple import certificate_files, push_certificates
from apple.certificate_files import CertificateFileError
from apple.models import VppToken
from apple.tasks import sync_vpp_assets_after_commit
from apple.vendor import vendor_identity
from apple.vpp import token_file, tokens
from users.audit import record
from users.tenancy import TenantAdminRequiredMixin, TenantMemberRequiredMixin

from .forms import PushRequestForm, PushUploadForm, ReenrollmentForm, VppUploadForm
from .status import credential_state


def render_settings(request, status=200, **forms):
    tenant = request.tenant
    context = {
        "state": credential_state(tenant),
        "request_form": forms.get("request_form") or PushRequestForm(),
        "upload_form": forms.get("upload_form") or PushUploadForm(),
        "reenrollment_form": ReenrollmentForm(
            initial={"apple_reenrollment_enabled": tenant.apple_reenrollment_enabled}
        ),
        "vpp_form": forms.get("vpp_form") or VppUploadForm(),
        "needs_topic_confirmation": forms.get("needs_topic_confirmation", False),
        "needs_takeover_confirmation": forms.get("needs_takeover_confirmation", False),
        "vendor_is_stand_in": vendor_identity().is_stand_in,
    }
    if context["state"].vpp:
        context["asset_count"] = context["state"].vpp.assets.count()
    return render(request, "mobile_settings/index.html", context, status=status)


def _read(upload) -> bytes | None:
    """The upload's bytes; a far too large file is refused before reading it (the service
    applies the same limit to every path)."""
    if upload is None:
        return None
    if upload.size > certificate_files.MAX_FILE:
        raise CertificateFileError(_("The file is too large."))
    return upload.read()


class SettingsView(TenantMemberRequiredMixin, View):
    def get(self, request):
        return render_settings(request)


class PushRequestView(TenantAdminRequiredMixin, View):
    def post(self, request):
        form = PushRequestForm(request.POST)
        if not form.is_valid():
            return render_settings(request, 400, request_form=form)
        body = push_certificates.create_request(request.tenant, form.cleaned_data["apple_id"])
        record(
            request.user,
            "push_certificate.requested",
            tenant=request.tenant,
            apple_id=form.cleaned_data["apple_id"],
        )
        response = HttpResponse(body, content_type="application/octet-stream")
        response["Content-Disposition"] = (
            f'attachment; filename="PushCertificateRequest-{request.tenant.number}.plist"'
        )
        return response


@method_decorator(sensitive_post_parameters("password"), name="dispatch")
class PushUploadView(TenantAdminRequiredMixin, View):
    def post(self, request):
        form = PushUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return render_settings(request, 400, upload_form=form)
        data = form.cleaned_data
        try:
            row = push_certificates.install(
                request.tenant,
                _read(data["certificate"]),
                password=data["password"],
                key_data=_read(data["private_key"]),
                apple_id=data["apple_id"],
                confirm_new_topic=data["confirm_new_topic"],
            )
        except push_certificates.TopicChangeNeedsConfirmation as exc:
            form.add_error(None, str(exc))
            return render_settings(request, 400, upload_form=form, needs_topic_confirmation=True)
        except (push_certificates.PushCertificateError, CertificateFileError) as exc:
            form.add_error("certificate", str(exc))
            return render_settings(request, 400, upload_form=form)
        record(
            request.user,
            "push_certificate.installed",
            row,
            topic=row.topic,
            not_after=row.not_after.isoformat(),
        )
        messages.success(
            request,
            _("Push certificate saved. It is valid until %(date)s.")
            % {"date": row.not_after.date().isoformat()},
        )
        return redirect("mobile_settings:index")


class ReenrollmentView(TenantAdminRequiredMixin, View):
    def post(self, request):
        form = ReenrollmentForm(request.POST)
        form.is_valid()
        enabled = form.cleaned_data.get("apple_reenrollment_enabled", False)
        tenant = request.tenant
        tenant.apple_reenrollment_enabled = enabled
        tenant.save(update_fields=["apple_reenrollment_enabled"])
        record(request.user, "tenant.apple_reenrollment", tenant=tenant, enabled=enabled)
        messages.success(
            request,
            _("Apple re-enrollment is on.") if enabled else _("Apple re-enrollment is off."),
        )
        return redirect("mobile_settings:index")


class VppUploadView(TenantAdminRequiredMixin, View):
    def post(self, request):
        form = VppUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return render_settings(request, 400, vpp_form=form)
        upload = form.cleaned_data["token"]
        try:
            if upload.size > token_file.MAX_FILE:  # not read at all; the service checks too
                raise token_file.TokenFileError(_("The file is too large."))
            row = tokens.upload(
                request.tenant,
                upload.read(),
                confirm_takeover=form.cleaned_data["confirm_takeover"],
            )
        except tokens.ClaimedByOtherMdm as exc:
            form.add_error(None, str(exc))
            return render_settings(request, 400, vpp_form=form, needs_takeover_confirmation=True)
        except (tokens.VppUploadError, token_file.TokenFileError) as exc:
            form.add_error("token", str(exc))
            return render_settings(request, 400, vpp_form=form)
        sync_vpp_assets_after_commit(row)
        record(
            request.user, "vpp_token.installed", row, org=row.org_name, location=row.location_name
        )
        messages.success(
            request, _("Apps and Books token saved for %(org)s.") % {"org": row.org_name}
        )
        return redirect("mobile_settings:index")


class VppSyncView(TenantAdminRequiredMixin, View):
    def post(self, request):
        from apple.tasks import sync_vpp_assets

        row = VppToken.objects.for_tenant(request.tenant).first()
        if row is not None:
            sync_vpp_assets.delay(row.pk)
            messages.success(request, _("Synchronisation of purchased apps started."))
        return redirect("mobile_settings:index")
