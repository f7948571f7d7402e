from django.apps import AppConfig


class MdmConfig(AppConfig):
    name = "mdm"
    verbose_name = "Devices and commands"

    def ready(self):
        from . import app_delivery, metrics, receivers  # noqa: F401  (receivers, desired sources)

        metrics.register_queue_depth()
