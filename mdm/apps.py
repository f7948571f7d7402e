from django.apps import AppConfig


class MdmConfig(AppConfig):
    name = "mdm"
    verbose_name = "Devices and commands"

    def ready(self):
        # receivers connects the signal receivers; app_delivery and profile_delivery register
        # desired sources.
        from . import app_delivery, metrics, profile_delivery, receivers  # noqa: F401

        metrics.register_queue_depth()
