from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Owns people: the email-login user, profiles and sellers' payout destinations."""

    name = "accounts"
    verbose_name = _("Accounts")
