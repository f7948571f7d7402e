from django.apps import AppConfig


class EnrollmentConfig(AppConfig):
    name = "enrollment"
    verbose_name = "Enrollment"

    def ready(self):
        from . import receivers  # noqa: F401 - connects the receivers of users' signals
