from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    """Owns the double-entry book of every Rupiah (DESIGN.md §4.2)."""

    name = "ledger"
    verbose_name = _("Ledger")
