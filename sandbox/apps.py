from django.apps import AppConfig
from django.conf import settings
from django.core import checks


class SandboxConfig(AppConfig):
    """A Faspay look-alike (Debit + SendMe SNAP) for development and tests; see README.md."""

    name = "sandbox"
    verbose_name = "Faspay sandbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        checks.register(check_sandbox_not_in_production, checks.Tags.security)


def check_sandbox_not_in_production(app_configs=None, **kwargs):
    """The sandbox accepts anyone's payments and payouts: never mount it in production by accident."""
    enabled = getattr(settings, "FASPAY_SANDBOX_ENABLED", False)
    allowed = getattr(settings, "FASPAY_SANDBOX_ALLOW_IN_PRODUCTION", False)
    if enabled and not settings.DEBUG and not allowed:
        return [checks.Error(
            "The Faspay sandbox is enabled while DEBUG is off.",
            hint="Set FASPAY_SANDBOX_ENABLED=false in production, or "
                 "FASPAY_SANDBOX_ALLOW_IN_PRODUCTION=true for a deliberate staging setup.",
            id="sandbox.E001",
        )]
    return []
