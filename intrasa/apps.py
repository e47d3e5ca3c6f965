from django.apps import AppConfig


class IntrasaConfig(AppConfig):
    """The project package is an app only so that its template filters and commands load."""

    name = "intrasa"
    verbose_name = "INTRASA"
