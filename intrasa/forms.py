"""Form fields shared by every app.

``RupiahField`` is the one field for an amount of money a person types, anywhere in INTRASA: the
website (price, shipping, fee calculator, settlement offers, refund requests) and the staff admin
(daily limit, withdrawals, fee schedule, dispute decisions). Every amount input uses it, so the
same text is read the same way everywhere and nothing a person types can reach the database as an
out-of-range ``bigint`` (``tests/security/test_amount_fields.py`` fails on an amount field of
another type).
"""
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .money import MAX_RUPIAH_INPUT_LENGTH, RUPIAH_CEILING, parse_rupiah, rupiah_on_one_line


class RupiahField(forms.CharField):
    """A whole-Rupiah amount typed as ``150000``, ``150.000`` or ``Rp 150.000``, between
    ``min_value`` and ``max_value`` (inclusive; the error states both in the user's language).

    ``max_value`` defaults to ``RUPIAH_CEILING`` for amounts whose real bound depends on the
    object (what a dispute holds, what a buyer paid): the service then checks that bound.
    """

    def __init__(self, *, min_value: int = 1, max_value: int | None = None, **kwargs):
        self.min_value = min_value
        self.max_value = RUPIAH_CEILING if max_value is None else max_value
        kwargs.setdefault("max_length", MAX_RUPIAH_INPUT_LENGTH)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
        super().__init__(**kwargs)
        # CharField's max_length validator would measure the parsed int; the parser checks the
        # length of the text first (max_length still becomes the input's maxlength attribute).
        self.validators = [v for v in self.validators if not isinstance(v, MaxLengthValidator)]

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if not isinstance(value, str):
            value = str(value)
        value = value.strip()
        if value in self.empty_values:
            return None
        return parse_rupiah(value)

    def validate(self, value):
        super().validate(value)
        if value is None:
            return
        if not self.min_value <= value <= self.max_value:
            raise ValidationError(self.range_message(value), code="out_of_range")

    def range_message(self, value: int) -> str:
        """Says which limit the amount passed, and the limits, in plain words ("Rp" kept with its digits)."""
        bounds = {"min": rupiah_on_one_line(self.min_value), "max": rupiah_on_one_line(self.max_value),
                  "value": rupiah_on_one_line(value)}
        if value < self.min_value and self.max_value >= RUPIAH_CEILING:
            return _("Enter an amount of at least %(min)s.") % bounds
        if self.min_value <= 0:
            return _("Enter an amount of at most %(max)s.") % bounds
        if value < self.min_value:
            return _("%(value)s is below the minimum of %(min)s. Enter an amount between %(min)s and %(max)s.") % bounds
        return _("%(value)s is above the maximum of %(max)s. Enter an amount between %(min)s and %(max)s.") % bounds

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.setdefault("inputmode", "numeric")
        return attrs


def staff_reason_field(**kwargs) -> forms.CharField:
    """The reason a staff member gives for a change of money or rules: required, kept in the audit
    log (DESIGN.md §4.6)."""
    options = {"label": gettext_lazy("Reason"), "min_length": 5, "max_length": 2000,
               "widget": forms.Textarea(attrs={"rows": 3, "cols": 60}),
               "help_text": gettext_lazy("Kept in the audit log with your name.")}
    options.update(kwargs)
    return forms.CharField(**options)


class StaffReasonForm(forms.Form):
    """A confirmation page's one field: why."""

    reason = staff_reason_field()


class IsoDateInput(forms.DateInput):
    """A browser date picker (``<input type="date">``). Its value must be ISO ``YYYY-MM-DD`` in
    every language: a localized default (``01-11-2026`` in Indonesian) is invalid for the
    browser, which shows an empty required field and refuses to submit the form."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")
