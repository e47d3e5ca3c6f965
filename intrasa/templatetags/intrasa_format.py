"""Template filters available in every template (registered as builtins in settings)."""
from django import template
from django.utils.html import format_html

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


@register.filter(name="money")
def money(amount):
    """``{{ 1250000|money }}`` → ``<span class="money">Rp 1.250.000</span>``: on pages, where "Rp"
    must never wrap away from its amount (the class keeps it on one line). Plain ``rupiah`` stays for
    text that is not HTML (emails, PDFs, attributes)."""
    if amount in (None, ""):
        return ""
    return format_html('<span class="money">{}</span>', format_rupiah(int(amount)))
