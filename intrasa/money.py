"""Whole-Rupiah money: parsing people's input and formatting amounts for people.

Amounts are ``int`` everywhere in INTRASA (DESIGN.md §4.1): the Rupiah has no minor unit in
practice, so there is never a float or a Decimal in a money path. Formatting follows Indonesian
convention, a dot between thousands: ``Rp 1.250.000``.

Every amount a person types goes through :func:`parse_rupiah` (through the one form field,
``intrasa.forms.RupiahField``). It reads only what people actually type and refuses the rest with
a reason in their language, *before* anything is converted: the text is capped in length first
(Python refuses to turn a string of more than 4,300 digits into an ``int``, and PostgreSQL's
``bigint`` ends at 9.223.372.036.854.775.807), and only the ASCII digits 0–9 count as digits
(``str.isdigit()`` and the regex ``\\d`` also accept full-width, Arabic-Indic, superscript and
circled digits, which ``int()`` would silently read).
"""
import re
import unicodedata
from typing import TypeGuard

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# The longest amount text anyone types: "Rp 1.000.000.000.000,00" is 23 characters.
MAX_RUPIAH_INPUT_LENGTH = 32
# No amount INTRASA handles comes near Rp 1 triliun; every parsed amount stays far inside bigint.
RUPIAH_CEILING = 1_000_000_000_000
BIGINT_MAX = 2**63 - 1

RUPIAH_INPUT = re.compile(r"^(?:rp\.?)?([0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+)(?:,0{1,2})?$", re.IGNORECASE)
FOREIGN_CURRENCY = re.compile(r"(\$|usd|sgd|myr|eur|€|£|¥|us\$)", re.IGNORECASE)
NEGATIVE = re.compile(r"^[-−–]|^rp\.?[-−–]", re.IGNORECASE)
DECIMAL = re.compile(r"^(?:rp\.?)?[0-9.]*[0-9](?:,[0-9]+|\.[0-9]{1,2})$", re.IGNORECASE)
# Spaces people put in amounts: ordinary, no-break and narrow no-break spaces, tabs.
SPACES = re.compile(r"[\s\u00a0\u202f]+")


def format_rupiah(amount: int | None) -> str:
    """``1250000`` → ``"Rp 1.250.000"``; negative amounts as ``"-Rp 5.000"``."""
    if amount is None:
        return ""
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise TypeError(f"Rupiah amounts are whole integers, got {type(amount).__name__}")
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {abs(amount):,}".replace(",", ".")


def rupiah_on_one_line(amount: int) -> str:
    """``Rp 1.250.000`` with a no-break space (U+00A0): "Rp" never wraps away from its digits, on a
    page, in an attribute, an email or a PDF alike (the ``rupiah`` and ``money`` template filters)."""
    return format_rupiah(amount).replace(" ", "\u00a0")


_BREAKABLE_AMOUNT = re.compile(r"Rp (?=\d)")


def amounts_on_one_line(text: str) -> str:
    """Text INTRASA wrote earlier with ``format_rupiah`` (a stored note, a notification) with every
    "Rp" joined to its digits by a no-break space, for a page."""
    return _BREAKABLE_AMOUNT.sub("Rp\u00a0", text)


def _has_foreign_digits(text: str) -> bool:
    """Digits other than ASCII 0–9: full-width, Arabic-Indic, superscript, circled, …"""
    return any(not ("0" <= char <= "9") and (char.isdigit() or char.isnumeric()
                                           or unicodedata.category(char) == "Nd") for char in text)


def parse_rupiah(text: str) -> int:
    """Read an amount typed by a person: ``150000``, ``150.000``, ``Rp 150.000`` or ``150.000,00``.

    Anything that is not a whole Rupiah amount — too long, negative, with cents, in another
    currency, with digits other than 0–9, letters — is refused with a message in the user's
    language. The length is checked before any conversion.
    """
    raw = text if isinstance(text, str) else ""
    if len(raw) > MAX_RUPIAH_INPUT_LENGTH:
        raise ValidationError(
            _("That amount is too long; enter at most %(count)d characters, for example 1.250.000.")
            % {"count": MAX_RUPIAH_INPUT_LENGTH}, code="too_long")
    cleaned = SPACES.sub("", raw)
    if _has_foreign_digits(cleaned):
        raise ValidationError(_("Use only the digits 0–9 in amounts."), code="non_ascii_digits")
    if FOREIGN_CURRENCY.search(cleaned):
        raise ValidationError(
            _("Only Rupiah amounts are accepted; INTRASA serves domestic transactions only."),
            code="foreign_currency",
        )
    if NEGATIVE.match(cleaned):
        raise ValidationError(_("The amount cannot be negative."), code="negative")
    match = RUPIAH_INPUT.match(cleaned)
    if not match:
        if DECIMAL.match(cleaned):
            raise ValidationError(
                _("Rupiah amounts have no cents: enter a whole Rupiah amount, for example 150000 or "
                  "150.000."), code="invalid_rupiah")
        raise ValidationError(
            _("Enter a whole Rupiah amount, for example 150000 or 150.000."), code="invalid_rupiah"
        )
    amount = int(match.group(1).replace(".", ""))
    if amount > BIGINT_MAX:
        raise ValidationError(_("That amount is far too large."), code="too_large")
    return amount


def check_rupiah_range(amount: object, *, minimum: int, maximum: int) -> TypeGuard[int]:
    """Whether ``amount`` is a whole-Rupiah ``int`` within [minimum, maximum]: the guard every
    service runs before an amount reaches a ``BigIntegerField`` (defence in depth behind the form)."""
    return isinstance(amount, int) and not isinstance(amount, bool) and minimum <= amount <= maximum


def percent_of(amount: int, basis_points: int) -> int:
    """``basis_points``/10 000 of ``amount``, rounded half up to a whole Rupiah, in integers only."""
    return (amount * basis_points + 5_000) // 10_000
