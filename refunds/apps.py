from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RefundsConfig(AppConfig):
    """Owns the refund policy engine (refund-policy.txt) and refund requests."""

    name = "refunds"
    verbose_name = _("Refunds")
