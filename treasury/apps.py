from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from accounts.roles import FINANCE as FINANCE_GROUP

# The group is created by accounts/migrations/0003_staff_roles.py; treasury adds its own
# permissions to it after every migrate (the group may be created after this app's migrations).
FINANCE_PERMISSIONS = (
    "treasury.view_treasury", "treasury.export_data", "treasury.view_withdrawalinstruction",
    "treasury.add_withdrawalinstruction", "treasury.change_withdrawalinstruction",
    "treasury.view_reconciliationitem", "treasury.change_reconciliationitem",
    "payments.view_bill", "payments.record_provider_payment", "payments.book_provider_reversal",
)


def grant_finance_permissions(sender, using="default", **kwargs) -> None:
    """Give the Finance group the treasury permissions, if the group exists (idempotent)."""
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.using(using).filter(name=FINANCE_GROUP).first()
    if group is None:
        return
    for name in FINANCE_PERMISSIONS:
        app_label, codename = name.split(".", 1)
        group.permissions.add(*Permission.objects.using(using).filter(content_type__app_label=app_label,
                                                                       codename=codename))


class TreasuryConfig(AppConfig):
    """Owns INTRASA's own money at Faspay SendMe: the deposit balance and quota, withdrawals to
    INTRASA's bank (terms A/B), the monthly-target penalty (terms C), nightly reconciliation with
    the providers, the staff SLA dashboard and the CSV exports."""

    name = "treasury"
    verbose_name = _("SendMe treasury")

    def ready(self):
        post_migrate.connect(grant_finance_permissions, dispatch_uid="treasury.grant_finance_permissions")
