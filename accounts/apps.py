from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Owns people: the email-login user, profiles and sellers' payout destinations."""

    default = True  # this module holds two app configs; "accounts" in INSTALLED_APPS means this one
    name = "accounts"
    verbose_name = _("Accounts")


class StaffAdminConfig(admin_apps.AdminConfig):
    """Django's admin app, with ``accounts.admin_site.StaffAdminSite`` (second factor required) as
    the default site that every ``admin.register`` uses."""

    default = False
    default_site = "accounts.admin_site.StaffAdminSite"
