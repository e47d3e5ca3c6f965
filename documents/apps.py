from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    """Owns the PDF documents of a transaction (WeasyPrint): the buyer's receipt, the seller's
    payout statement and the refund receipt, and who may download which."""

    name = "documents"
    verbose_name = _("Documents")
