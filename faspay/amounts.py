"""The one amount codec between whole Rupiah (``int``) and Faspay's amount formats.

INTRASA counts whole Rupiah (DESIGN.md §4.1). Faspay writes amounts three ways:

* SNAP (SendMe): ``{"value": "10000.00", "currency": "IDR"}`` — a string with two decimals
  (REFERENCE.md §1.1; BI's format is at most 16 integer digits);
* Debit (Post Data, inquiry, notification): ``bill_total`` as ``rupiah × scale`` in a plain
  integer string (``scale`` is ``FASPAY_DEBIT_AMOUNT_SCALE``: 1, or 100 if the account expects two
  implied decimals — REFERENCE.md §8.6), which notifications sometimes write with ``.00``.

Decoding refuses instead of rounding: a fraction of a Rupiah (``"10000.50"``), a value that is
not a multiple of the Debit scale, a negative, a value beyond the format, non-ASCII digits
(``int()`` would read Arabic-Indic or full-width digits), whitespace, signs, exponents, floats and
booleans all raise :class:`~faspay.errors.AmountError`. An amount that cannot be read exactly is
an amount nobody may act on. The length is checked before ``int()`` ever sees the text.
"""
import re

from .errors import AmountError

CURRENCY = "IDR"
# SNAP: ISO 20022 / BI amount value, 16 integer digits and 2 decimals.
SNAP_MAX_RUPIAH = 10**16 - 1
# Debit: bill_total is N15 (REFERENCE.md §4.1); a notification's amount field holds at most 18
# integer digits (payments' column widths), so the encoder keeps to 15 and the decoder to 18.
DEBIT_MAX_UNITS = 10**15 - 1
DEBIT_MAX_PARSED_DIGITS = 18

_SNAP_VALUE = re.compile(r"([0-9]{1,16})(?:\.([0-9]{1,2}))?")
_DEBIT_VALUE = re.compile(r"([0-9]{1,%d})(?:\.([0-9]{1,2}))?" % DEBIT_MAX_PARSED_DIGITS)
_LONGEST_TEXT = 24


def _whole(rupiah, *, ceiling: int) -> int:
    if isinstance(rupiah, bool) or not isinstance(rupiah, int):
        raise AmountError(f"amount must be whole Rupiah (int), not {type(rupiah).__name__}")
    if rupiah < 0:
        raise AmountError(f"amount must not be negative: {rupiah}")
    if rupiah > ceiling:
        raise AmountError(f"amount {rupiah} is beyond what the format can carry")
    return rupiah


def _read(text, pattern: re.Pattern, what: str) -> int:
    """The integer part of ``text`` if it matches ``pattern`` and its decimals are all zero."""
    if isinstance(text, bool) or not isinstance(text, str):
        raise AmountError(f"{what} must be a string, not {type(text).__name__}")
    if len(text) > _LONGEST_TEXT:
        raise AmountError(f"{what} is too long")
    match = pattern.fullmatch(text)
    if match is None:
        raise AmountError(f"{what} {text!r} is not an amount")
    whole, decimals = match.groups()
    if decimals is not None and decimals.strip("0"):
        raise AmountError(f"{what} {text!r} has a fraction of a Rupiah")
    return int(whole)


# --- SNAP (SendMe) ------------------------------------------------------------------------------

def snap_value(rupiah: int) -> str:
    """Rp 10.000 → ``"10000.00"``."""
    return f"{_whole(rupiah, ceiling=SNAP_MAX_RUPIAH)}.00"


def snap_amount(rupiah: int) -> dict:
    """Rp 10.000 → ``{"value": "10000.00", "currency": "IDR"}`` (a new dict every call)."""
    return {"value": snap_value(rupiah), "currency": CURRENCY}


def parse_snap_value(text: str) -> int:
    """``"10000.00"`` (or ``"10000"``, ``"10000.0"``) → 10000; anything else raises."""
    return _read(text, _SNAP_VALUE, "SNAP amount")


def parse_snap_amount(amount) -> int:
    """``{"value": "10000.00", "currency": "IDR"}`` → 10000. The currency, when given, must be IDR."""
    if not isinstance(amount, dict):
        raise AmountError(f"SNAP amount must be an object, not {type(amount).__name__}")
    currency = amount.get("currency", CURRENCY)
    if currency != CURRENCY:
        raise AmountError(f"SNAP amount in {str(currency)[:8]!r}, not IDR")
    if "value" not in amount:
        raise AmountError("SNAP amount without a value")
    return parse_snap_value(amount["value"])


# --- Debit --------------------------------------------------------------------------------------

def _scale(scale) -> int:
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise AmountError(f"Debit amount scale must be a positive int, not {scale!r}")
    return scale


def debit_value(rupiah: int, scale: int = 1) -> str:
    """Rp 10.000 → ``"10000"`` (scale 1) or ``"1000000"`` (scale 100)."""
    scale = _scale(scale)
    return str(_whole(rupiah, ceiling=DEBIT_MAX_UNITS // scale) * scale)


def parse_debit_value(value, scale: int = 1) -> int:
    """A Debit amount (``"10000"``, ``"10000.00"``, or a JSON integer) → whole Rupiah.

    Refused: a fraction of a unit, a value that is not a whole number of Rupiah at ``scale``
    (``"1050"`` at scale 100 is Rp 10,50), and everything that is not an amount."""
    scale = _scale(scale)
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise AmountError(f"Debit amount must not be negative: {value}")
        if value > 10**DEBIT_MAX_PARSED_DIGITS:
            raise AmountError("Debit amount is too long")
        value = str(value)
    units = _read(value, _DEBIT_VALUE, "Debit amount")
    rupiah, rest = divmod(units, scale)
    if rest:
        raise AmountError(f"Debit amount {value!r} is not whole Rupiah at scale {scale}")
    return rupiah
