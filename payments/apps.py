from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    """Owns collecting buyer money through Faspay: bank transfer, virtual account, convenience
    store and QRIS (FAQ steps 2 and 3)."""

    name = "payments"
    verbose_name = _("Payments")

    def ready(self):
        from ledger.checks import register_cross_check

        from .checks import collection_breaches

        register_cross_check(collection_breaches)
