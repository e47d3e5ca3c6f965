from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisbursementsConfig(AppConfig):
    """Owns paying sellers (and refunds to accounts) through Faspay SendMe within the limits of
    the operational terms (FAQ step 6)."""

    name = "disbursements"
    verbose_name = _("Disbursements")

    def ready(self):
        from django.core import checks

        from intrasa.checks import TAG

        from .checks import check_sendme_limits

        checks.register(check_sendme_limits, TAG)
        # Optional listeners (DESIGN.md §3): a new bank account is checked at once rather than at
        # its first payout. Payouts themselves are planned by name by the flow that releases money.
        from accounts.signals import payout_destination_added
        from workdays.signals import calendar_changed

        from .services import on_calendar_changed, on_destination_added

        payout_destination_added.connect(on_destination_added, dispatch_uid="disbursements.verify_destination")
        # Staff changed the working-day calendar: the open payouts' promises are counted again on it.
        calendar_changed.connect(on_calendar_changed, dispatch_uid="disbursements.recount_promises")
