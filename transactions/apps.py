from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TransactionsConfig(AppConfig):
    """Owns the escrow transaction: its state machine, fees, reference numbers and timeline."""

    name = "transactions"
    verbose_name = _("Escrow transactions")

    def ready(self):
        from ledger.checks import register_cross_check

        from .checks import transaction_ledger_breaches

        register_cross_check(transaction_ledger_breaches)

        from django.test.signals import setting_changed

        from . import page_cache

        # A kept transaction page was rendered under the settings of its time (tests override them).
        setting_changed.connect(page_cache.forget_everything, dispatch_uid="transactions.page_cache.settings")
