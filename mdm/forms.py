"""Forms of the device pages: the tile's configuration and the list's bulk tag actions."""

from django import forms
from django.utils.translation import gettext_lazy as _

from users.models import Tag
from users.tags import MAX_LENGTH, split_names

from . import device_settings
from .models import Device


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
        existing = list(Tag.objects.for_tenant(tenant).values_list("name", flat=True)[:30])
        help_text = str(_("Separate several with commas. New tags are created."))
        if existing:
            help_text += " " + str(_("Existing: %(tags)s.") % {"tags": ", ".join(existing)})
        self.fields["tag_names"].help_text = help_text
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
