from django.apps import AppConfig


class UserImportsConfig(AppConfig):
    name = "users.imports"
    label = "user_imports"
    verbose_name = "User imports"
