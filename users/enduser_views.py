"""End-user pages of the users app: setting the enrollment password (and, optionally, a TOTP
second factor) from a mailed link."""

from django.core import signing
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from . import totp
from .audit import record
from .enrollment_password import user_for_link
from .forms import TOTP_SETUP_SALT, SetPasswordForm


@never_cache
@sensitive_post_parameters("password1", "password2", "totp_secret", "totp_code")
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
        signing.loads(form.data["totp_secret"], salt=TOTP_SETUP_SALT)
        if form.is_bound and form.data.get("totp_secret")
        else totp.new_secret()
    )
    form.initial["totp_secret"] = signing.dumps(secret, salt=TOTP_SETUP_SALT)
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
