from django import forms
from django.contrib.auth import password_validation
from django.core import signing
from django.utils.translation import gettext_lazy as _

from . import totp
from .imports.models import CsvImport, EntraConnection
from .models import ManagedUser, Tag
from .signals import changed_details, details_of, send_details_changed
from .tags import split_names, tags_for_names


class ManagedUserForm(forms.ModelForm):
    # One field for tags: existing ones are matched regardless of case, new ones are created.
    tag_names = forms.CharField(label=_("Tags"), required=False, max_length=1000)

    class Meta:
        model = ManagedUser
        fields = [
            "username",
            "first_name",
            "last_name",
            "email",
            "managed_apple_id",
            "language",
            "comment",
            "is_active",
        ]
        widgets = {"comment": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        # Taken before validation writes the new values onto the instance.
        self.details_before = details_of(self.instance) if self.instance.pk else None
        existing = list(Tag.objects.for_tenant(tenant).values_list("name", flat=True)[:30])
        help_text = _("Separate several with commas. New tags are created.")
        if existing:
            existing_text = _("Existing: %(tags)s.") % {"tags": ", ".join(existing)}
            help_text = f"{help_text} {existing_text}"
        self.fields["tag_names"].help_text = help_text
        if self.instance.pk:
            self.fields["tag_names"].initial = ", ".join(t.name for t in self.instance.tags.all())
        self.order_fields([*self.Meta.fields[:-1], "tag_names", "is_active"])
        self.fields["email"].required = True
        self.fields["managed_apple_id"].help_text = _(
            "The Managed Apple Account from Apple Business Manager, e.g. "
            "alice@contoso.appleid.com. Often differs from the e-mail address."
        )

    def clean_username(self):
        username = self.cleaned_data["username"]
        clash = ManagedUser.objects.for_tenant(self.tenant).filter(username__iexact=username)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(_("A user with this username exists already."))
        return username

    def clean_managed_apple_id(self):
        value = self.cleaned_data["managed_apple_id"].strip()
        if value:
            forms.EmailField().clean(value)
        return value

    def save(self, commit=True):
        user = super().save(commit=False)
        user.tenant = self.tenant
        if commit:
            user.save()
            user.tags.set(tags_for_names(self.tenant, split_names(self.cleaned_data["tag_names"])))
            if self.details_before is not None:
                changed = changed_details(self.details_before, user)
                send_details_changed(ManagedUser, {user.pk: changed})
        return user


class CsvUploadForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))


class CsvConfirmForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("Invalid rows"),
        choices=CsvImport.Mode.choices,
        widget=forms.RadioSelect,
        initial=CsvImport.Mode.SKIP_INVALID,
    )


class EntraConnectionForm(forms.ModelForm):
    client_secret = forms.CharField(
        label=_("Client secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Stored encrypted. Leave empty to keep the stored secret."),
    )

    class Meta:
        model = EntraConnection
        fields = [
            "directory_id",
            "client_id",
            "client_secret",
            "apple_id_source",
            "scope",
            "group_ids",
            "sync_enabled",
        ]
        widgets = {"group_ids": forms.Textarea(attrs={"rows": 3})}

    def clean(self):
        data = super().clean()
        if not data.get("client_secret") and not (self.instance.pk and self.instance.client_secret):
            self.add_error("client_secret", _("Enter the client secret of the app registration."))
        if (
            data.get("scope") == EntraConnection.Scope.GROUPS
            and not (data.get("group_ids") or "").split()
        ):
            self.add_error("group_ids", _("Enter at least one group ID."))
        return data

    def save(self, commit=True):
        if not self.cleaned_data.get("client_secret"):
            stored = EntraConnection.objects.get(pk=self.instance.pk)
            self.instance.client_secret = stored.client_secret
        if {"directory_id", "scope", "group_ids"} & set(self.changed_data):
            self.instance.delta_link = ""  # another directory or scope: start over
        return super().save(commit)


TOTP_SETUP_SALT = "users.totp-setup"


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
                secret = signing.loads(
                    data.get("totp_secret", ""), salt=TOTP_SETUP_SALT, max_age=3600
                )
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
