from django.apps import AppConfig


class IntrasaConfig(AppConfig):
    """The project package is an app so that its template filters, commands and system checks
    (``intrasa.checks``: what production refuses to start without) load, and so that Django's CSRF
    tokens are drawn in one system call each (``intrasa.csrf``)."""

    name = "intrasa"
    verbose_name = "INTRASA"

    def ready(self):
        from . import checks, csrf

        checks.register()
        csrf.install()
