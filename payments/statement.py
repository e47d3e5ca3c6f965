"""Reading finance's bank-statement CSV (``date,description,amount,reference``, credit lines only).

Every line is checked before anything is imported, against what the database will accept
(``BankStatementLine``: a reference of at most 100 characters, a whole-Rupiah amount), and a
file with any bad line imports nothing: finance corrects the file and imports it whole, so a
statement is never half in the books. Each bad line is reported with its line number and why.
"""
import csv
import datetime as dt
import io
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from intrasa.forms import RupiahField
from intrasa.money import RUPIAH_CEILING

from .models import BankStatementLine

COLUMNS = ("date", "description", "amount", "reference")
REFERENCE_MAX = BankStatementLine._meta.get_field("bank_reference").max_length
DESCRIPTION_MAX = BankStatementLine._meta.get_field("description").max_length
MAX_REPORTED_LINES = 20


@dataclass(frozen=True)
class LineError:
    line: int
    reason: str

    def __str__(self) -> str:
        return _("Line %(line)d: %(reason)s") % {"line": self.line, "reason": self.reason}


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def _line_errors(row: dict) -> tuple[dict | None, list[str]]:
    reasons = []
    if None in row or any(value is None for value in row.values()):
        reasons.append(_("it does not have the four columns date, description, amount, reference."))
        return None, reasons
    if any("\x00" in value for value in row.values()):
        reasons.append(_("it contains a NUL character."))
        return None, reasons
    booked_on = None
    try:
        booked_on = dt.date.fromisoformat(_text(row.get("date")).strip())
    except ValueError:
        reasons.append(_("the date is not in the form YYYY-MM-DD."))
    amount = None
    try:
        amount = RupiahField(min_value=1, max_value=RUPIAH_CEILING).clean(_text(row.get("amount")))
    except ValidationError as exc:
        reasons.append(_("the amount: %(error)s") % {"error": " ".join(exc.messages)})
    reference = _text(row.get("reference")).strip()
    if len(reference) > REFERENCE_MAX:
        reasons.append(_("the reference is longer than %(max)d characters.") % {"max": REFERENCE_MAX})
    if reasons:
        return None, reasons
    return {"booked_on": booked_on, "description": _text(row.get("description")).strip()[:DESCRIPTION_MAX],
            "amount": amount, "bank_reference": reference}, []


def statement_rows(text: str) -> list[dict]:
    """The rows of a statement, ready for ``payments.services.statement_import``; raises
    ``ValidationError`` listing the bad lines (line numbers as in a spreadsheet, header = 1)."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    except csv.Error:
        header = []
    missing = [name for name in COLUMNS if name not in header and name != "reference"]
    if missing:
        raise ValidationError(_("The first line must name the columns: %(columns)s.")
                              % {"columns": ", ".join(COLUMNS)}, code="header")
    reader.fieldnames = header
    rows, errors = [], []
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error:
            # The reader stops before counting the line it could not read.
            errors.append(LineError(reader.line_num + 1, _("it cannot be read as CSV (a field is too long or a "
                                                           "quote is not closed).")))
            break
        number = reader.line_num
        row = {key: value for key, value in row.items() if key in COLUMNS or key is None}
        row.setdefault("reference", "")
        parsed, reasons = _line_errors(row)
        if reasons:
            errors.append(LineError(number, " ".join(reasons)))
        else:
            parsed["bank_reference"] = parsed["bank_reference"] or f"line-{number}"
            rows.append(parsed)
    if errors:
        shown = [str(error) for error in errors[:MAX_REPORTED_LINES]]
        if len(errors) > MAX_REPORTED_LINES:
            shown.append(_("… and %(count)d more lines with errors.") % {"count": len(errors) - MAX_REPORTED_LINES})
        raise ValidationError([_("Nothing was imported: correct these lines and import the whole file again."),
                               *shown], code="bad_lines")
    if not rows:
        raise ValidationError(_("The file has no lines."), code="empty")
    return rows
