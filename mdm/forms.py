"""Forms of the apps, tags and device pages: settings and tags of an app, a tag's name and
colour, a device's configuration (name, tags, direct profiles) and direct apps, and the device
list's bulk tag actions."""

from django import forms
from django.utils.translation import gettext_lazy as _

from users.models import Tag
from users.tags import MAX_LENGTH, TagError, checked_color, checked_name, split_names

from . import app_catalogue, app_configuration, app_reach, device_settings
from .models import App, Device


def _tags_help(tenant) -> str:
    existing = list(Tag.objects.for_tenant(tenant).values_list("name", flat=True)[:30])
    text = str(_("Separate several with commas. New tags are created."))
    if existing:
        text += " " + str(_("Existing: %(tags)s.") % {"tags": ", ".join(existing)})
    return text


def _existing_tag_ids(tenant, names) -> list[int]:
    """Ids of the named tags that exist already (new ones reach nobody yet)."""
    ids = []
    for name in names:
        tag = Tag.objects.for_tenant(tenant).filter(name__iexact=name).first()
        if tag is not None:
            ids.append(tag.pk)
    return ids


class AppSettingsForm(forms.ModelForm):
    configuration_text = forms.CharField(
        label=_("Managed app configuration"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text=_(
            "A plist dictionary (XML) or one key = value per line. $USERNAME, $EMAIL and "
            "$MANAGED_APPLE_ID are replaced with the user's values on each device."
        ),
    )
    tag_names = forms.CharField(label=_("Tags"), required=False, max_length=1000)
    confirm_shortfall = forms.BooleanField(
        label=_("Assign anyway: users beyond the licences get the state “No licence available”"),
        required=False,
        widget=forms.HiddenInput,
    )

    class Meta:
        model = App
        fields = ["install_mode", "remove_on_unenroll", "prevent_backup"]
        widgets = {"install_mode": forms.RadioSelect}

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.counts = None
        self.fields["tag_names"].help_text = _tags_help(tenant)
        if self.instance.pk:
            self.fields["tag_names"].initial = ", ".join(t.name for t in self.instance.tags.all())
            self.fields["configuration_text"].initial = app_configuration.to_text(
                self.instance.configuration
            )

    def clean_configuration_text(self):
        try:
            return app_configuration.parse(self.cleaned_data["configuration_text"])
        except app_configuration.ConfigurationError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_tag_names(self):
        return split_names(self.cleaned_data["tag_names"])

    def _app_for_counts(self):
        return self.instance

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        app = self._app_for_counts()
        if app is None or app.asset is None:
            return data
        self.counts = app_reach.licence_counts(
            app, _existing_tag_ids(self.tenant, data["tag_names"]), data.get("install_mode")
        )
        if self.counts.shortfall and not data.get("confirm_shortfall"):
            # Shown once, with the switch to go ahead.
            self.fields["confirm_shortfall"].widget = forms.CheckboxInput()
            raise forms.ValidationError(
                _(
                    "Not enough licences: these tags reach %(reached)s users, and %(total)s "
                    "licences were bought (%(available)s available). Buy more in Apple Business "
                    "Manager, or confirm to assign anyway."
                ),
                params={
                    "reached": self.counts.reached,
                    "total": self.counts.total,
                    "available": self.counts.available,
                },
                code="shortfall",
            )
        return data

    def settings(self) -> dict:
        """The cleaned settings, as ``app_catalogue.add_app`` and ``update_settings`` take
        them (the views save through those)."""
        data = self.cleaned_data
        return {
            **{name: data[name] for name in self._meta.fields},
            "configuration": data["configuration_text"],
            "tags": data["tag_names"],
        }


class AddAppForm(AppSettingsForm):
    """Add app: one synced Apps and Books asset (picked in the dialog by adamId) and its
    settings."""

    adam_id = forms.CharField(label=_("App"), max_length=32, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.asset = None
        self.order_fields(["adam_id"])

    def clean_adam_id(self):
        try:
            self.asset = app_catalogue.asset_to_add(self.tenant, self.cleaned_data["adam_id"])
        except app_catalogue.CatalogueError as exc:
            raise forms.ValidationError(str(exc)) from exc
        # The API answers the app already there; here the admin picked the wrong one.
        if App.objects.for_tenant(self.tenant).filter(adam_id=self.asset.adam_id).exists():
            raise forms.ValidationError(_("This app is in the catalogue already."))
        return self.asset.adam_id

    def _app_for_counts(self):
        if self.asset is None:
            return None
        return App(tenant=self.tenant, adam_id=self.asset.adam_id, asset=self.asset)


class TagForm(forms.ModelForm):
    class Meta:
        model = Tag
        fields = ["name", "color"]
        widgets = {"color": forms.TextInput(attrs={"type": "color"})}

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.fields["name"].max_length = MAX_LENGTH

    def clean_name(self):
        try:
            return checked_name(self.tenant, self.cleaned_data["name"], exclude_pk=self.instance.pk)
        except TagError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_color(self):
        try:
            return checked_color(self.cleaned_data["color"])
        except TagError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def save(self, commit=True):
        tag = super().save(commit=False)
        tag.tenant = self.tenant
        if commit:
            tag.save()
        return tag


class DeviceAppForm(forms.Form):
    """Assign an app to one device directly (beside tags), or take it back."""

    app = forms.ModelChoiceField(label=_("App"), queryset=App.objects.none())
    action = forms.ChoiceField(choices=[("assign", "assign"), ("unassign", "unassign")])

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["app"].queryset = App.objects.for_tenant(tenant)
        self.fields["app"].error_messages["invalid_choice"] = _("Pick an app of the catalogue.")


class DeviceSettingsForm(forms.Form):
    name = forms.CharField(
        label=_("Name in the portal"),
        required=False,
        max_length=device_settings.MAX_NAME,
        help_text=_("Shown on the tile instead of the device's own name; also $DEVICE_NAME."),
    )
    tag_names = forms.CharField(label=_("Tags"), required=False, max_length=1000)
    profiles = forms.ModelMultipleChoiceField(
        label=_("Profiles assigned to this device"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Besides the profiles its tags and its user's tags bring."),
    )

    def __init__(self, *args, device: Device, **kwargs):
        super().__init__(*args, **kwargs)
        tenant = device.tenant
        self.fields["profiles"].queryset = device_settings.tenant_profiles(tenant)
        self.fields["tag_names"].help_text = _tags_help(tenant)
        if not self.is_bound:
            self.initial = {
                "name": device.name,
                "tag_names": ", ".join(t.name for t in device.tags.all()),
                "profiles": list(device.direct_profiles.all()),
            }

    def clean_tag_names(self):
        return split_names(self.cleaned_data["tag_names"])


class BulkTagForm(forms.Form):
    tag = forms.CharField(max_length=MAX_LENGTH)

    def clean_tag(self):
        name = self.cleaned_data["tag"].strip()
        if not name:
            raise forms.ValidationError(_("Type the tag's name."))
        return name
