from django import forms
from django.utils.translation import gettext_lazy as _


class PushRequestForm(forms.Form):
    apple_id = forms.EmailField(
        label=_("Apple ID for the Apple Push Certificates Portal"),
        help_text=_(
            "Use a company Apple ID that stays with the organisation; renewals must use "
            "the same one."
        ),
    )


class PushUploadForm(forms.Form):
    certificate = forms.FileField(label=_("Certificate (.pem, .cer, .p12 or .pfx)"), max_length=255)
    private_key = forms.FileField(
        label=_("Private key (.pem/.key, only for certificates made elsewhere)"), required=False
    )
    password = forms.CharField(
        label=_("Password (.p12/.pfx or encrypted key)"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        max_length=256,
    )
    apple_id = forms.EmailField(label=_("Apple ID used at Apple"), required=False)
    confirm_new_topic = forms.BooleanField(
        label=_("I understand that every enrolled device must enroll again"), required=False
    )


class ReenrollmentForm(forms.Form):
    apple_reenrollment_enabled = forms.BooleanField(
        label=_("Enable Apple re-enrollment"), required=False
    )


class VppUploadForm(forms.Form):
    token = forms.FileField(label=_("Apps and Books token (.vpptoken)"))
    confirm_takeover = forms.BooleanField(
        label=_("Take this location over from the other MDM"), required=False
    )
