from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaylinksConfig(AppConfig):
    """Owns the seller's reusable payment link: each buyer who opens it starts their own escrow
    transaction with its terms (``paylinks.services``)."""

    name = "paylinks"
    verbose_name = _("Payment links")
