from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisbursementsConfig(AppConfig):
    """Owns paying sellers (and refunds to accounts) through Faspay SendMe within the limits of
    the operational terms (FAQ step 6)."""

    name = "disbursements"
    verbose_name = _("Disbursements")

    def ready(self):
        # An optional listener (DESIGN.md §3): a new bank account is checked at once rather than at
        # its first payout. Payouts themselves are planned by name by the flow that releases money.
        from accounts.signals import payout_destination_added

        from .services import on_destination_added

        payout_destination_added.connect(on_destination_added, dispatch_uid="disbursements.verify_destination")
