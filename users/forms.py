from django import forms
from django.utils.translation import gettext_lazy as _

from .imports.models import EntraConnection
from .models import ManagedUser, Tag


class ManagedUserForm(forms.ModelForm):
    new_tags = forms.CharField(
        label=_("New tags"), required=False, help_text=_("Separate several with commas.")
    )

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
            "tags",
            "is_active",
        ]
        widgets = {
            "tags": forms.CheckboxSelectMultiple,
            "comment": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.fields["tags"].queryset = Tag.objects.for_tenant(tenant)
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
            tags = list(self.cleaned_data["tags"])
            for name in {
                t.strip()[:64] for t in self.cleaned_data["new_tags"].split(",") if t.strip()
            }:
                tag = Tag.objects.filter(tenant=self.tenant, name__iexact=name).first() or (
                    Tag.objects.create(tenant=self.tenant, name=name)
                )
                tags.append(tag)
            user.tags.set(tags)
        return user


class CsvUploadForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))


class CsvConfirmForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("Invalid rows"),
        choices=[
            ("skip", _("Import the valid rows, skip the invalid ones")),
            ("all", _("Import nothing if any row is invalid")),
        ],
        widget=forms.RadioSelect,
        initial="skip",
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
