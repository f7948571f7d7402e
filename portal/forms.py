"""Forms of the portal shell, and how every portal form renders: labels without colons, help
text under the field, a switch for yes/no fields (``{{ form }}`` uses ``portal/form.html``)."""

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.forms.renderers import TemplatesSetting
from django.utils.translation import gettext as _

from users.throttle import Throttle, client_ip


class PortalFormRenderer(TemplatesSetting):
    form_template_name = "portal/form.html"


login_throttle = Throttle(
    "admin-login", limit=settings.LOGIN_THROTTLE_LIMIT, window=settings.LOGIN_THROTTLE_WINDOW
)


class ThrottledAuthenticationForm(AuthenticationForm):
    """Refuses sign-in for a username/address pair after too many failures."""

    def clean(self):
        username = self.data.get("username", "")
        address = client_ip(self.request)
        if login_throttle.is_locked(username, address):
            minutes = max(1, login_throttle.retry_after(username, address) // 60)
            raise self.get_throttled_error(minutes)
        try:
            data = super().clean()
        except Exception:
            login_throttle.failure(username, address)
            raise
        login_throttle.reset(username, address)
        return data

    def get_throttled_error(self, minutes):
        return ValidationError(
            _("Too many failed sign-ins. Try again in %(minutes)d minutes.") % {"minutes": minutes},
            code="throttled",
        )
