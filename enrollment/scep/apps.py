from django.apps import AppConfig


class ScepConfig(AppConfig):
    name = "enrollment.scep"
    label = "scep"
    verbose_name = "Identity CA and SCEP"
