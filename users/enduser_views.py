"""End-user pages of the users app: setting the enrollment password from a mailed link."""

from django import forms
from django.contrib.auth import password_validation
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from .audit import record
from .enrollment_password import user_for_link


class SetPasswordForm(forms.Form):
    password1 = forms.CharField(label=_("New password"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label=_("Repeat password"), widget=forms.PasswordInput, strip=False)

    def clean(self):
        data = super().clean()
        if data.get("password1") != data.get("password2"):
            raise forms.ValidationError(_("The two passwords differ."))
        if data.get("password1"):
            password_validation.validate_password(data["password1"])
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
        return render(request, "users/enduser/set_password_done.html", {"managed_user": user})
    return render(request, "users/enduser/set_password.html", {"form": form, "managed_user": user})
