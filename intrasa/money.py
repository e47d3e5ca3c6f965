"""Whole-Rupiah money: parsing people's input and formatting amounts for people.

Amounts are ``int`` everywhere in INTRASA (DESIGN.md §4.1): the Rupiah has no minor unit in
practice, so there is never a float or a Decimal in a money path. Formatting follows Indonesian
convention, a dot between thousands: ``Rp 1.250.000``.
"""
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

RUPIAH_INPUT = re.compile(r"^(?:rp\.?\s*)?(\d{1,3}(?:\.\d{3})+|\d+)(?:,0{1,2})?$", re.IGNORECASE)
FOREIGN_CURRENCY = re.compile(r"(\$|usd|sgd|myr|eur|€|£|¥|us\$)", re.IGNORECASE)


def format_rupiah(amount: int | None) -> str:
    """``1250000`` → ``"Rp 1.250.000"``; negative amounts as ``"-Rp 5.000"``."""
    if amount is None:
        return ""
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise TypeError(f"Rupiah amounts are whole integers, got {type(amount).__name__}")
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {abs(amount):,}".replace(",", ".")


def parse_rupiah(text: str) -> int:
    """Read an amount typed by a person: ``150000``, ``150.000``, ``Rp 150.000`` or ``150.000,00``.

    Anything that is not a whole Rupiah amount (cents, another currency, letters) is refused with a
    message in the user's language.
    """
    cleaned = (text or "").strip().replace(" ", "")
    if FOREIGN_CURRENCY.search(cleaned):
        raise ValidationError(
            _("Only Rupiah amounts are accepted; INTRASA serves domestic transactions only."),
            code="foreign_currency",
        )
    match = RUPIAH_INPUT.match(cleaned)
    if not match:
        raise ValidationError(
            _("Enter a whole Rupiah amount, for example 150000 or 150.000."), code="invalid_rupiah"
        )
    return int(match.group(1).replace(".", ""))


def percent_of(amount: int, basis_points: int) -> int:
    """``basis_points``/10 000 of ``amount``, rounded half up to a whole Rupiah, in integers only."""
    return (amount * basis_points + 5_000) // 10_000
