from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TransactionsConfig(AppConfig):
    """Owns the escrow transaction: its state machine, fees, reference numbers and timeline."""

    name = "transactions"
    verbose_name = _("Escrow transactions")
