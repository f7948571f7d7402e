"""What a tenant still lacks before its devices can enroll (discovery refuses them until then).

The Register new device dialog shows these with a link to fix each; discovery applies the same
two checks.
"""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apple.push_identity import current_topic

from .profiles import default_profile


@dataclass(frozen=True)
class MissingStep:
    code: str
    message: str
    link_text: str
    url: str


def missing_steps(tenant) -> list[MissingStep]:
    steps = []
    if current_topic(tenant) is None:
        steps.append(
            MissingStep(
                "push_certificate",
                _("There is no valid Apple push certificate, so devices cannot enroll yet."),
                _("Add it in Settings"),
                reverse("mobile_settings:index") + "#push-certificate",
            )
        )
    if default_profile(tenant) is None:
        steps.append(
            MissingStep(
                "default_profile",
                _("There is no default User registration profile, so devices cannot enroll yet."),
                _("Add a profile"),
                reverse("enrollment:profiles"),
            )
        )
    return steps
