"""Template filters available in every template (registered as builtins in settings)."""
from django import template

from intrasa.money import format_rupiah
from intrasa.wib import format_wib

register = template.Library()


@register.filter(name="rupiah")
def rupiah(amount):
    """``{{ 1250000|rupiah }}`` → ``Rp 1.250.000``."""
    if amount in (None, ""):
        return ""
    return format_rupiah(int(amount))


@register.filter(name="wib")
def wib(value):
    """``{{ deadline|wib }}`` → ``Kamis, 12 Juni 2026 14.00 WIB``."""
    return format_wib(value)


@register.filter(name="wib_date")
def wib_date(value):
    return format_wib(value, with_time=False)
