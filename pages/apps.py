from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PagesConfig(AppConfig):
    """Owns what anyone may see without logging in: the public information pages, Cek Transaksi
    (status by reference number), the fee table and the "is this payment instruction real?"
    check. Its read model (``pages.selectors``) cannot carry personal data by construction."""

    name = "pages"
    verbose_name = _("Public pages")
