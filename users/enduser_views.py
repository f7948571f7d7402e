"""End-user pages of the users app: setting the enrollment password (and, optionally, a TOTP
second factor) from a mailed link."""

from django import forms
from django.contrib.auth import password_validation
from django.core import signing
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from . import totp
from .audit import record
from .enrollment_password import user_for_link

_TOTP_SALT = "users.totp-setup"


class SetPasswordForm(forms.Form):
    password1 = forms.CharField(label=_("New password"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label=_("Repeat password"), widget=forms.PasswordInput, strip=False)
    totp_secret = forms.CharField(widget=forms.HiddenInput, required=False)
    totp_code = forms.CharField(
        label=_("Code from your authenticator app (optional)"),
        required=False,
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") != data.get("password2"):
            raise forms.ValidationError(_("The two passwords differ."))
        if data.get("password1"):
            password_validation.validate_password(data["password1"])
        if data.get("totp_code"):
            try:
                secret = signing.loads(data.get("totp_secret", ""), salt=_TOTP_SALT, max_age=3600)
            except signing.BadSignature as exc:
                raise forms.ValidationError(_("Reload the page and scan the new code.")) from exc
            if not totp.code_matches(secret, data["totp_code"]):
                self.add_error(
                    "totp_code",
                    _(
                        "This code is not correct. Check the time on "
                        "your phone and try the next code."
                    ),
                )
            data["totp_secret_plain"] = secret
        return data


@never_cache
def set_password(request, uidb64, token):
    user = user_for_link(uidb64, token)
    if user is None:
        return render(request, "users/enduser/set_password_invalid.html", status=404)
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user.set_enrollment_password(form.cleaned_data["password1"])
        user.save(update_fields=["enrollment_password", "password_changed_at"])
        record(f"user:{user.username}", "managed_user.password_set", user)
        if form.cleaned_data.get("totp_secret_plain"):
            totp.enable(user, form.cleaned_data["totp_secret_plain"])
            record(f"user:{user.username}", "managed_user.totp_enabled", user)
        return render(request, "users/enduser/set_password_done.html", {"managed_user": user})
    secret = (
        signing.loads(form.data["totp_secret"], salt=_TOTP_SALT)
        if form.is_bound and form.data.get("totp_secret")
        else totp.new_secret()
    )
    form.initial["totp_secret"] = signing.dumps(secret, salt=_TOTP_SALT)
    if form.is_bound:
        form.data = form.data.copy()
        form.data["totp_secret"] = form.initial["totp_secret"]
    uri = totp.provisioning_uri(user, secret)
    context = {
        "form": form,
        "managed_user": user,
        "totp_qr": mark_safe(totp.qr_svg(uri)),  # noqa: S308 - SVG made by qrcode
        "totp_uri": uri,
        "totp_enabled": totp.is_enabled(user),
    }
    return render(request, "users/enduser/set_password.html", context)
