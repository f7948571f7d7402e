from django.apps import AppConfig


class AppleConfig(AppConfig):
    name = "apple"
    verbose_name = "Apple services"

    def ready(self):
        from .vpp import users  # noqa: F401  (connects its signal receiver)
