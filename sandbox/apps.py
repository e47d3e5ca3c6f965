from django.apps import AppConfig
from django.conf import settings
from django.core import checks


class SandboxConfig(AppConfig):
    """A Faspay look-alike (Debit + SendMe SNAP) for development and tests; see README.md."""

    name = "sandbox"
    verbose_name = "Faspay sandbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from intrasa.checks import TAG

        # Tagged like the provider checks, so production processes refuse to start on them too.
        checks.register(check_sandbox_not_in_production, checks.Tags.security, TAG)
        checks.register(check_sandbox_operator_credentials, checks.Tags.security, TAG)


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


def check_sandbox_operator_credentials(app_configs=None, **kwargs):
    """With DEBUG off the sandbox's control page, control API and payment page answer only to HTTP
    basic auth (sandbox.access): it cannot run there without credentials."""
    enabled = getattr(settings, "FASPAY_SANDBOX_ENABLED", False)
    username = getattr(settings, "FASPAY_SANDBOX_USERNAME", "")
    password = getattr(settings, "FASPAY_SANDBOX_PASSWORD", "")
    if enabled and not settings.DEBUG and not (username and password):
        return [checks.Error(
            "The Faspay sandbox runs with DEBUG off without operator credentials.",
            hint="Set FASPAY_SANDBOX_USERNAME and FASPAY_SANDBOX_PASSWORD: its control page, control API and "
                 "payment page then ask for them (HTTP basic auth).",
            id="sandbox.E002",
        )]
    if enabled and not settings.DEBUG and len(password) < 12:
        return [checks.Error(
            "FASPAY_SANDBOX_PASSWORD is shorter than 12 characters.",
            hint="Anyone who guesses it can pay any bill in the sandbox; use a long random password.",
            id="sandbox.E003",
        )]
    return []
