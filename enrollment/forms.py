from cryptography import x509
from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from .models import Profile, TermsOfUse


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = [
            "kind",
            "name",
            "description",
            "organization",
            "is_default",
            "trusted_certificates",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "trusted_certificates": forms.Textarea(attrs={"rows": 4}),
        }

    def clean_trusted_certificates(self):
        pem = self.cleaned_data["trusted_certificates"].strip()
        if pem:
            try:
                certs = x509.load_pem_x509_certificates(pem.encode())
            except ValueError as exc:
                raise forms.ValidationError(
                    _("Paste one or more PEM certificates (-----BEGIN CERTIFICATE-----).")
                ) from exc
            if not certs:
                raise forms.ValidationError(_("No certificate found."))
        return pem

    def save(self, commit=True):
        profile = super().save(commit=False)
        if commit:
            with transaction.atomic():
                if profile.is_default:
                    # One default per tenant and type: the new default replaces the old one.
                    Profile.objects.filter(
                        tenant=profile.tenant, kind=profile.kind, is_default=True
                    ).exclude(pk=profile.pk).update(is_default=False)
                profile.save()
        return profile


class TermsForm(forms.ModelForm):
    class Meta:
        model = TermsOfUse
        fields = ["text_en", "text_de"]
        widgets = {
            "text_en": forms.Textarea(attrs={"rows": 10}),
            "text_de": forms.Textarea(attrs={"rows": 10}),
        }


class WebLoginForm(forms.Form):
    identifier = forms.CharField(label=_("User name or account address"), max_length=254)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, max_length=256)
    code = forms.CharField(
        label=_("Authentication code"),
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    accept_terms = forms.BooleanField(required=False)
