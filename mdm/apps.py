from django.apps import AppConfig


class MdmConfig(AppConfig):
    name = "mdm"
    verbose_name = "Devices and commands"

    def ready(self):
        from . import metrics, receivers  # noqa: F401  (connects the signal receivers)

        metrics.register_queue_depth()
