from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkdaysConfig(AppConfig):
    """Owns the one working-day calendar (WIB) behind every deadline in the product."""

    name = "workdays"
    verbose_name = _("Working-day calendar")
