from django.apps import AppConfig


class MobileSettingsConfig(AppConfig):
    """Mobile Security -> Settings: an app of its own so its templates and locale sit with it."""

    name = "portal.mobile_settings"
    label = "mobile_settings"
