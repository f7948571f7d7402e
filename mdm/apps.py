from django.apps import AppConfig


class MdmConfig(AppConfig):
    name = "mdm"
    verbose_name = "Devices and commands"

    def ready(self):
        from . import receivers  # noqa: F401 - connects the receivers of users' signals
