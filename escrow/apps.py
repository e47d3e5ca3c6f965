from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EscrowConfig(AppConfig):
    """Owns the escrow's money flows that span apps: each flow is one service here that calls its
    steps by name (DESIGN.md §3, "Orchestration is explicit"), and the views, tasks and staff
    pages that start those flows. It sits at the top of the import direction (DESIGN.md §2), beside
    pages, documents and treasury: it may use every app below it; none of them uses it."""

    name = "escrow"
    verbose_name = _("Escrow flows")

    def ready(self):
        from ledger.checks import register_cross_check

        from .checks import owed_money_breaches

        register_cross_check(owed_money_breaches)
