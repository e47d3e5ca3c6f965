from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkdaysConfig(AppConfig):
    """Owns the one working-day calendar (WIB) behind every deadline in the product."""

    name = "workdays"
    verbose_name = _("Working-day calendar")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from .calendar import forget_overrides_now_and_on_commit
        from .models import CalendarOverride

        post_save.connect(forget_overrides_now_and_on_commit, sender=CalendarOverride, dispatch_uid="workdays.forget_on_save")
        post_delete.connect(forget_overrides_now_and_on_commit, sender=CalendarOverride, dispatch_uid="workdays.forget_on_delete")
