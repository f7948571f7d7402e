from django.apps import AppConfig


class MdmConfig(AppConfig):
    name = "mdm"
    verbose_name = "Devices and commands"

    def ready(self):
        # receivers connects the signal receivers; profile_delivery registers a desired source.
        from . import metrics, profile_delivery, receivers  # noqa: F401

        metrics.register_queue_depth()
