from cryptography import x509
from django import forms
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from users import variables as profile_variables
from users.tags import split_names, tags_for_names

from . import configuration_profiles
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Configuration profiles have their own editor (ConfigurationProfileForm).
        self.fields["kind"].choices = [
            (Profile.Kind.USER_REGISTRATION, Profile.Kind.USER_REGISTRATION.label)
        ]

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


class ConfigurationProfileForm(forms.ModelForm):
    """The General tab of a configuration profile."""

    tag_names = forms.CharField(
        label=_("Tags"),
        required=False,
        help_text=_("Comma-separated. Devices of users or devices with one of these tags get it."),
    )

    class Meta:
        model = Profile
        fields = ["name", "description", "organization", "removal", "removal_date"]
        fields += ["removal_after_days"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "removal_date": forms.DateTimeInput(attrs={"type": "datetime-local"}),
        }

    def __init__(self, *args, tenant, **kwargs):
        self.tenant = tenant
        super().__init__(*args, **kwargs)
        self.fields["organization"].help_text = _("Empty: the tenant's name.")
        self.fields["removal"].help_text = _(
            "Personal devices never lock a profile in: ending the enrollment removes it."
        )
        if self.instance.pk:
            self.fields["tag_names"].initial = ", ".join(t.name for t in self.instance.tags.all())

    def clean(self):
        cleaned = super().clean()
        for name in ("name", "description", "organization"):
            unknown = profile_variables.unknown_variables(cleaned.get(name) or "")
            if unknown:
                self.add_error(name, unknown_variable_message(unknown))
        removal = cleaned.get("removal")
        if removal == Profile.Removal.ON_DATE:
            when = cleaned.get("removal_date")
            if not when or when <= timezone.now():
                self.add_error("removal_date", _("Choose a date in the future."))
        elif removal == Profile.Removal.AFTER_DAYS and not cleaned.get("removal_after_days"):
            self.add_error("removal_after_days", _("Enter the number of days (1 or more)."))
        return cleaned

    def save(self, commit=True):
        with transaction.atomic():
            if self.instance.pk is None:
                fields = {f: self.cleaned_data[f] for f in self._meta.fields}
                self.instance = configuration_profiles.create_profile(self.tenant, **fields)
            else:
                self.instance.save()
                configuration_profiles.saved(self.instance)
            names = split_names(self.cleaned_data["tag_names"])
            configuration_profiles.set_tags(self.instance, tags_for_names(self.tenant, names))
        return self.instance


def unknown_variable_message(unknown: list[str]) -> str:
    return _("Unknown variable %(names)s. Known: %(known)s.") % {
        "names": ", ".join(unknown),
        "known": ", ".join("$" + v for v in profile_variables.VARIABLES),
    }


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Profile file (.mobileconfig)"),
        help_text=_("Signed or unsigned. You see what is kept before anything is saved."),
    )


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
