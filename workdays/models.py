from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarOverride(models.Model):
    """A staff correction to the public-holiday list of the ``holidays`` package.

    The government moves holidays and cuti bersama during the year; an override wins over the
    package for its date, in either direction.
    """

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Public holiday")
        CUTI_BERSAMA = "cuti_bersama", _("Collective leave (cuti bersama)")
        WORKING_DAY = "working_day", _("Working day (cancels a holiday)")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()}: {self.name}"

    @property
    def is_day_off(self) -> bool:
        return self.kind != self.Kind.WORKING_DAY
