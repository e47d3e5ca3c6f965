"""Which documents exist for a transaction, who may download them, and what they contain.

Three documents; who may download each is decided by ``refunds.access`` (its table, with every
other private record of a transaction):

=========================  ==============================================================
document                   exists when
=========================  ==============================================================
receipt (``kuitansi``)     always: an invoice until the payment is verified, then a receipt
payout statement           once the money was released to the seller (or the ledger has
(``laporan-pencairan``)    seller-payable lines, e.g. a dispute split)
refund receipt             once the transaction was refunded (or the ledger has
(``kuitansi-pengembalian``) buyer-refund lines, e.g. a double payment owed back)
=========================  ==============================================================

Anyone else gets 404, the same answer as for a reference that does not exist, so that a document
URL reveals nothing. A document shows only the ledger lines its reader may see
(``refunds.access.visible_postings``): a seller's payout statement leaves out the lines of the
buyer's own money (a double payment owed back, refund transfers).

The payout statement and the refund receipt show what the ledger has: payouts and refunds are
posted by the disbursements and refunds apps, and each document simply lists whatever lines of
its accounts exist when it is rendered.
"""
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ledger.models import AccountCategory, EntryKind, Posting
from ledger.selectors import money_statement, transaction_postings
from payments.channels import channel_get
from payments.models import Bill
from payments.selectors import bills_of
from refunds.access import Record, may_see, visible_postings
from refunds.selectors import refund_due_by
from transactions.models import EscrowTransaction, Status
from transactions.progress import timeline as timeline_for_people
from transactions.selectors import transaction_timeline

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


@dataclass(frozen=True)
class DocumentKind:
    slug: str  # the URL segment, in Bahasa Indonesia like the rest of the URLs
    record: Record  # who may download it: refunds.access
    title: "StrPromise"  # lazy: translated when shown
    template: str


RECEIPT = DocumentKind("kuitansi", Record.RECEIPT, _("Payment receipt"), "documents/receipt.html")
PAYOUT_STATEMENT = DocumentKind("laporan-pencairan", Record.PAYOUT_STATEMENT, _("Payout statement"),
                                "documents/payout_statement.html")
REFUND_RECEIPT = DocumentKind("kuitansi-pengembalian", Record.REFUND_RECEIPT, _("Refund receipt"),
                              "documents/refund_receipt.html")
KINDS = {kind.slug: kind for kind in (RECEIPT, PAYOUT_STATEMENT, REFUND_RECEIPT)}


def _touches(postings, category: str) -> bool:
    return any(p.account.category == category for p in postings)


def document_available(kind: DocumentKind, txn: EscrowTransaction, postings) -> bool:
    """Whether ``kind`` exists for ``txn`` (``postings``: its already loaded ledger lines)."""
    if kind is RECEIPT:
        return True
    if kind is PAYOUT_STATEMENT:
        return (txn.confirmed_at is not None or txn.status in (Status.CONFIRMED, Status.DISBURSED)
                or _touches(postings, AccountCategory.SELLER_PAYABLE))
    if kind is REFUND_RECEIPT:
        # Not for a payment Faspay took back while INTRASA held it: INTRASA refunded nothing (the payment
        # receipt says what happened), unless money was owed back to the buyer besides.
        return ((txn.status == Status.REFUNDED and txn.payment_taken_back_at is None)
                or _touches(postings, AccountCategory.BUYER_REFUND_PAYABLE))
    return False


def documents_for(*, user, escrow_transaction: EscrowTransaction, postings) -> list[tuple[DocumentKind, str]]:
    """``(kind, url)`` of every document ``user`` may download for this transaction now."""
    txn = escrow_transaction
    postings = list(postings)
    return [
        (kind, document_url(txn.reference, kind))
        for kind in KINDS.values()
        if may_see(user, kind.record, escrow_transaction=txn) and document_available(kind, txn, postings)
    ]


def document_url(reference: str, kind: DocumentKind) -> str:
    return reverse("documents:download", kwargs={"reference": reference, "kind": kind.slug})


def document_transaction_get(*, user, reference: str, slug: str) -> tuple[DocumentKind, EscrowTransaction, list]:
    """The document kind, its transaction and the ledger lines ``user`` may see in it, if ``user``
    may download it; else 404."""
    kind = KINDS.get(slug)
    if kind is None or not user.is_authenticated:
        raise Http404
    txn = EscrowTransaction.objects.select_related("seller", "buyer").filter(reference=reference).first()
    if txn is None or not may_see(user, kind.record, escrow_transaction=txn):
        raise Http404
    postings = list(transaction_postings(escrow_transaction=txn))
    if not document_available(kind, txn, postings):
        raise Http404
    return kind, txn, visible_postings(user, escrow_transaction=txn, postings=postings)


def _sum(postings, category: str, side: str) -> int:
    return sum(p.amount for p in postings if p.account.category == category and p.side == side)


@dataclass(frozen=True)
class Movement:
    """Money owed to a party and how much of it has left INTRASA, from the ledger lines."""

    owed: int  # credited to the party's payable account
    sent: int  # debited from it again: paid out / refunded
    lines: tuple[Posting, ...]  # the lines of that account
    # Debited because Faspay took the payment back (a booked reversal): it reached the buyer through the
    # provider, not through INTRASA, and is not owed any more.
    taken_back: int = 0

    @property
    def outstanding(self) -> int:
        return self.owed - self.sent - self.taken_back


def _movement(postings, category: str) -> Movement:
    lines = tuple(p for p in postings if p.account.category == category)
    taken_back = sum(p.amount for p in lines
                     if p.side == Posting.Side.DEBIT and p.entry.kind == EntryKind.PAYMENT_TAKEN_BACK)
    return Movement(
        owed=_sum(postings, category, Posting.Side.CREDIT),
        sent=_sum(postings, category, Posting.Side.DEBIT) - taken_back,
        lines=lines,
        taken_back=taken_back,
    )


def refund_transfers(*, escrow_transaction) -> list:
    """The refund transfers that reached the buyer: amount, when SendMe reported them paid, and where
    (the masked account label; the receipt shows no account number)."""
    from disbursements.models import Disbursement, Payout

    return list(Disbursement.objects.filter(payout__escrow_transaction=escrow_transaction,
                                            payout__purpose=Payout.Purpose.BUYER_REFUND,
                                            status=Disbursement.Status.SUCCEEDED)
                .select_related("destination").order_by("completed_at", "pk"))


def refund_returns(*, escrow_transaction) -> list:
    """The goods sent back for the transaction's refunds (``refunds.models.ReturnShipment``): the RMA
    number and the key dates the refund receipt shows (shipped back, arrived, inspected)."""
    from refunds.models import ReturnShipment

    return list(ReturnShipment.objects.filter(refund_request__escrow_transaction=escrow_transaction)
                .order_by("created_at", "pk"))


def check_url(reference: str) -> str:
    """The public Cek Transaksi page of ``reference``, which the documents' QR code opens."""
    return f"{settings.SITE_URL}{reverse('pages:check_transaction')}?reference={reference}"


def document_context(*, kind: DocumentKind, escrow_transaction: EscrowTransaction, postings: list) -> dict:
    """Everything a document template needs, with a constant number of queries (three more for a
    refund receipt)."""
    txn = escrow_transaction
    # bills_of: a milestone paid with its plan's one bill (up front) shows that bill's method too.
    bill = (bills_of(escrow_transaction=txn).filter(status__in=[Bill.Status.PAID, Bill.Status.VERIFIED])
            .order_by("-created_at").first() if kind is not PAYOUT_STATEMENT else None)
    channel = channel_get(bill.channel_code) if bill else None
    refund_event = None
    timeline = list(transaction_timeline(escrow_transaction=txn))
    transfers = []
    returns = []
    refund_by = None
    if kind is REFUND_RECEIPT:
        refund_event = next((e for e in reversed(timeline) if e.action == "refund"), None)
        transfers = refund_transfers(escrow_transaction=txn)
        returns = refund_returns(escrow_transaction=txn)
        # The one refund-by date (``refunds.policy``), as on Cek Transaksi and the refund page.
        refund_by = refund_due_by(escrow_transaction=txn)
    return {
        "kind": kind,
        "txn": txn,
        "postings": postings,
        "timeline": timeline,
        # The timeline as the parties read it: translated, repeated events collapsed.
        "timeline_entries": timeline_for_people(timeline),
        "statement": money_statement(postings),
        "bill": bill,
        "channel": channel.name if channel else (bill.get_method_display() if bill else ""),
        "payout": _movement(postings, AccountCategory.SELLER_PAYABLE),
        "refund": _movement(postings, AccountCategory.BUYER_REFUND_PAYABLE),
        "refund_event": refund_event,
        "refund_transfers": transfers,
        "refund_by": refund_by,
        "returns": returns,
        "check_url": check_url(txn.reference),
        "is_receipt": txn.verified_at is not None,
    }
