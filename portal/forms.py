"""Forms of the portal shell, and how every portal form renders: labels without colons, help
text under the field, a switch for yes/no fields (``{{ form }}`` uses ``portal/form.html``)."""

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.forms.renderers import TemplatesSetting
from django.utils.translation import gettext as _

from users.throttle import Throttle, admin_login_key, client_ip


class PortalFormRenderer(TemplatesSetting):
    form_template_name = "portal/form.html"


login_throttle = Throttle(
    "admin-login", limit=settings.LOGIN_THROTTLE_LIMIT, window=settings.LOGIN_THROTTLE_WINDOW
)
# Many usernames from one address (password spraying) are capped too.
login_address_throttle = Throttle(
    "admin-login-ip",
    limit=settings.LOGIN_THROTTLE_ADDRESS_LIMIT,
    window=settings.LOGIN_THROTTLE_WINDOW,
)


class ThrottledAuthenticationForm(AuthenticationForm):
    """Refuses sign-in for a username/address pair after too many failures, and for an
    address after too many failures with any usernames."""

    def clean(self):
        # Keyed on the username the backend will look up, not on what was typed: "  admin"
        # and a full-width "ａdmin" are the same account and share the counter.
        username = admin_login_key(self.data.get("username", ""))
        address = client_ip(self.request)
        for throttle, key in (
            (login_throttle, (username, address)),
            (login_address_throttle, (address,)),
        ):
            if throttle.is_locked(*key):
                minutes = max(1, throttle.retry_after(*key) // 60)
                raise self.get_throttled_error(minutes)
        try:
            data = super().clean()
        except Exception:
            login_throttle.failure(username, address)
            login_address_throttle.failure(address)
            raise
        login_throttle.reset(username, address)
        return data

    def get_throttled_error(self, minutes):
        return ValidationError(
            _("Too many failed sign-ins. Try again in %(minutes)d minutes.") % {"minutes": minutes},
            code="throttled",
        )
