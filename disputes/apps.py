from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisputesConfig(AppConfig):
    """Owns claims, evidence, settlement offers and staff resolution."""

    name = "disputes"
    verbose_name = _("Disputes")

    def ready(self):
        from ledger.checks import register_cross_check

        from .checks import dispute_state_breaches

        register_cross_check(dispute_state_breaches)
