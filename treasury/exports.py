"""Streamed CSV exports of transactions, disbursements and ledger postings for a WIB date range.

Rows come from ``values_list(...).iterator(chunk_size=...)`` (a server-side cursor on PostgreSQL)
and go straight into a ``StreamingHttpResponse``: 100 000 rows never sit in memory at once, and
the first bytes leave before the last row is read. Cells that a spreadsheet would run as a
formula (a seller's title starting with ``=``) are prefixed with an apostrophe.
"""
import csv
import datetime as dt
from dataclasses import dataclass
from typing import Callable, Iterator

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from disbursements.models import Disbursement
from intrasa.wib import WIB, to_wib
from ledger.models import Posting
from transactions.models import EscrowTransaction

CHUNK = 2_000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """csv.writer needs a file; this one hands each written line straight back."""

    def write(self, value: str) -> str:
        return value


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return to_wib(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


@dataclass(frozen=True)
class Export:
    name: str
    label: str
    permission: str  # besides treasury.export_data
    header: tuple[str, ...]
    fields: tuple[str, ...]
    date_field: str
    queryset: Callable[[], QuerySet]


EXPORTS = {
    "transactions": Export(
        "transactions", _("Transactions"), "transactions.view_escrowtransaction",
        ("reference", "created_at_wib", "status", "title", "price", "shipping_cost", "fee", "buyer_fee",
         "seller_fee", "amount_due", "amount_received", "seller_email", "buyer_email", "paid_at_wib",
         "closed_at_wib"),
        ("reference", "created_at", "status", "title", "price", "shipping_cost", "fee_amount", "buyer_fee",
         "seller_fee", "amount_due", "amount_received", "seller__email", "buyer__email", "paid_at", "closed_at"),
        "created_at", lambda: EscrowTransaction.objects.order_by("created_at", "pk")),
    "disbursements": Export(
        "disbursements", _("Disbursements"), "disbursements.view_disbursement",
        ("partner_reference_no", "created_at_wib", "transaction", "purpose", "part", "kind", "amount", "status",
         "waiting_for", "quota_day", "sendme_reference", "last_response_code", "sent_at_wib", "completed_at_wib"),
        ("partner_reference_no", "created_at", "payout__escrow_transaction__reference", "payout__purpose",
         "sequence", "kind", "amount", "status", "waiting_for", "quota_day", "provider_reference_no",
         "last_response_code", "sent_at", "completed_at"),
        "created_at", lambda: Disbursement.objects.order_by("created_at", "pk")),
    "ledger": Export(
        "ledger", _("Ledger entries (one line per posting)"), "ledger.view_journalentry",
        ("entry_id", "posted_at_wib", "kind", "idempotency_key", "transaction", "memo", "account", "side",
         "amount"),
        ("entry_id", "entry__posted_at", "entry__kind", "entry__idempotency_key",
         "entry__escrow_transaction__reference", "entry__memo", "account__category", "side", "amount"),
        "entry__posted_at", lambda: Posting.objects.order_by("entry__posted_at", "entry_id", "pk")),
}


def export_rows(export: Export, *, start: dt.date, end: dt.date, chunk_size: int = CHUNK) -> Iterator[tuple]:
    """The rows of ``export`` whose date falls in the WIB days ``start``..``end`` (inclusive)."""
    lower = dt.datetime.combine(start, dt.time(0, 0), WIB)
    upper = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0, 0), WIB)
    qs = export.queryset().filter(**{f"{export.date_field}__gte": lower, f"{export.date_field}__lt": upper})
    return qs.values_list(*export.fields).iterator(chunk_size=chunk_size)


def csv_lines(export: Export, rows: Iterator[tuple]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(export.header)  # BOM: Excel opens UTF-8 names correctly
    for row in rows:
        yield writer.writerow([_cell(value) for value in row])
