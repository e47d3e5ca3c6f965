"""Template filters available in every template (registered as builtins in settings)."""
from django import template
from django.utils.html import format_html

from intrasa.money import amounts_on_one_line, rupiah_on_one_line
from intrasa.wib import format_wib

register = template.Library()


@register.filter(name="rupiah")
def rupiah(amount):
    """``{{ 1250000|rupiah }}`` → ``Rp 1.250.000`` (a no-break space between "Rp" and the digits)."""
    if amount in (None, ""):
        return ""
    return rupiah_on_one_line(int(amount))


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
    must never wrap away from its amount (a no-break space, and the class keeps the sign on the line too).
    ``rupiah`` is the same text without the element, for attributes, emails and PDFs."""
    if amount in (None, ""):
        return ""
    return format_html('<span class="money">{}</span>', rupiah_on_one_line(int(amount)))


@register.filter(name="amounts_on_one_line")
def amounts_on_one_line_filter(text):
    """``{{ stored_note|amounts_on_one_line }}``: text INTRASA wrote with amounts in it (``Rp 1.290.000``),
    with "Rp" kept on the line of its digits."""
    return amounts_on_one_line(str(text)) if text else text
