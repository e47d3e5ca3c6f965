"""Cross-checks between collections and the ledger that need no provider (run by ``ledger_check``
and the nightly ledger job through ``ledger.checks.register_cross_check``).

* ``collected-equals-booked``: per transaction, the amounts of its verified bills (what the
  provider or the bank statement says was collected) equal the cash the ledger booked in for it
  (clearing-account debits of verified and owed-back payments, less the credits of payments the
  provider took back: a booked reversal's bill is no longer collected). A payment outside the ledger, or
  an amount booked that nobody collected, breaks it.
* ``shared-bill-adds-up``: a bill shared by several transactions (a milestone plan paid up front)
  collected, over its shares, exactly what it was paid; each share counts as its transaction's
  collection above.
* ``paid-bill-unsettled``: a bill the provider says was paid, still neither held nor owed back a
  day later (its amount is unknown and nobody recorded it from Faspay's report).
* ``paid-transaction-stuck``: a transaction in ``paid`` with nothing in escrow and no bill that
  could still move it (being created, pending, or paid and being verified).
* ``escrow-on-stated-amount``: escrow that was funded by no bill, or by a bill whose amount no
  source stated (an assumed amount).
* ``suspense-equals-unmatched-lines``: the suspense account equals the statement credits booked to
  it that staff have not yet matched to a payer.
* ``reversal-receivable-not-negative``: no booked reversal was recovered or written off beyond what it
  left owed to INTRASA.
"""
import datetime as dt
from collections import defaultdict

from django.db.models import F, Q, Sum
from django.utils import timezone

from ledger.checks import Breach
from ledger.models import AccountCategory, EntryKind, Posting
from transactions.models import EscrowTransaction, Status

from .models import BankStatementLine, Bill, BillShare
from .selectors import clearing_booked_in

UNSETTLED_GRACE = dt.timedelta(days=1)
CLEARING = (AccountCategory.PROVIDER_CLEARING, AccountCategory.ESCROW_BANK)
FUNDING_FLAGS = (Bill.Flag.NONE, Bill.Flag.EXCESS)


def collected_equals_booked() -> list[Breach]:
    collected: dict[int, int] = defaultdict(int)
    shared = BillShare.objects.values("bill")
    for txn_id, amount in Bill.objects.filter(status=Bill.Status.VERIFIED).exclude(pk__in=shared).values_list(
            "escrow_transaction", "paid_amount"):
        collected[txn_id] += amount or 0
    # A shared bill (a milestone plan paid up front) collected for each transaction its share.
    for txn_id, amount in BillShare.objects.filter(bill__status=Bill.Status.VERIFIED).values_list(
            "escrow_transaction", "collected"):
        collected[txn_id] += amount or 0
    booked = clearing_booked_in(categories=CLEARING)
    differing = {pk for pk in set(collected) | set(booked) if collected.get(pk, 0) != booked.get(pk, 0)}
    references = dict(EscrowTransaction.objects.filter(pk__in=differing).values_list("pk", "reference"))
    return [Breach("collected-equals-booked", references.get(pk, f"#{pk}"),
                   f"verified bills collected {collected.get(pk, 0)}, ledger booked in {booked.get(pk, 0)}")
            for pk in sorted(differing)]


def shares_add_up() -> list[Breach]:
    """A verified shared bill's shares together collected exactly what the bill was paid."""
    rows = (Bill.objects.filter(status=Bill.Status.VERIFIED, shares__isnull=False)
            .annotate(collected=Sum("shares__collected")).exclude(collected=F("paid_amount"))
            .values_list("bill_no", "paid_amount", "collected"))
    return [Breach("shared-bill-adds-up", bill_no, f"paid {paid}, its transactions' shares collected {collected}")
            for bill_no, paid, collected in rows]


def paid_bills_unsettled() -> list[Breach]:
    stale = (Bill.objects.filter(status=Bill.Status.PAID, paid_at__lt=timezone.now() - UNSETTLED_GRACE)
             .select_related("escrow_transaction"))
    return [Breach("paid-bill-unsettled", f"{bill.escrow_transaction.reference} {bill.bill_no}",
                   f"paid at the provider since {bill.paid_at:%Y-%m-%d %H:%M}, amount "
                   f"{'unknown' if bill.paid_amount is None else bill.paid_amount}, neither held nor owed back")
            for bill in stale]


def paid_transactions_stuck() -> list[Breach]:
    moving = [Bill.Status.CREATING, Bill.Status.PENDING, Bill.Status.PAID]
    movable = Q(bills__status__in=moving) | Q(bill_shares__bill__status__in=moving)
    stuck = (EscrowTransaction.objects.filter(status=Status.PAID).exclude(movable)
             .values_list("reference", flat=True))
    return [Breach("paid-transaction-stuck", reference, "in paid with nothing in escrow and no bill that can "
                   "move it") for reference in stuck]


def escrow_on_stated_amount() -> list[Breach]:
    funded = set(Posting.objects.filter(entry__kind=EntryKind.PAYMENT_VERIFIED, side=Posting.Side.CREDIT,
                                        account__category=AccountCategory.ESCROW_HOLD)
                 .values_list("entry__escrow_transaction", flat=True))
    sources = [s for s in Bill.AmountSource.values if s]
    # A bill the provider later took back funded the escrow all the same (its reversal overwrote the flag
    # it had, and booking it moved it to ``reversed``): its stated amount still proves the funding.
    funding = Q(status=Bill.Status.VERIFIED, flag__in=FUNDING_FLAGS) | Q(
        status__in=[Bill.Status.VERIFIED, Bill.Status.REVERSED], flag=Bill.Flag.REVERSED)
    stated = set(Bill.objects.filter(funding, amount_source__in=sources)
                 .exclude(pk__in=BillShare.objects.values("bill")).values_list("escrow_transaction", flat=True))
    stated |= set(BillShare.objects.filter(held=True, bill__status__in=[Bill.Status.VERIFIED, Bill.Status.REVERSED],
                                           bill__amount_source__in=sources).values_list("escrow_transaction", flat=True))
    unproven = funded - stated
    references = EscrowTransaction.objects.filter(pk__in=unproven).values_list("reference", flat=True)
    return [Breach("escrow-on-stated-amount", reference, "escrow funded without a bill whose amount a source "
                   "stated") for reference in references]


def suspense_equals_unmatched_lines() -> list[Breach]:
    """The suspense account holds exactly the statement credits booked to it and not yet matched to
    their payer."""
    from ledger.selectors import category_balance

    balance = category_balance(category=AccountCategory.UNMATCHED_SUSPENSE)
    waiting = (BankStatementLine.objects.filter(suspense_booked_at__isnull=False, assigned_transaction__isnull=True)
               .aggregate(total=Sum("amount"))["total"] or 0)
    if balance != waiting:
        return [Breach("suspense-equals-unmatched-lines", "suspense account",
                       f"balance {balance} != unmatched statement lines {waiting}")]
    return []


def reversal_receivable_not_negative() -> list[Breach]:
    """No booked reversal was recovered or written off beyond what it left owed to INTRASA (the receivable's
    postings are keyed ``bill:<pk>:…``; there are as many as there were reversals)."""
    left: dict[str, int] = defaultdict(int)
    for key, side, amount in Posting.objects.filter(account__category=AccountCategory.REVERSAL_RECEIVABLE).values_list(
            "entry__idempotency_key", "side", "amount"):
        bill = key.split(":", 2)[1] if key.startswith("bill:") else key
        left[bill] += amount if side == Posting.Side.DEBIT else -amount
    return [Breach("reversal-receivable-not-negative", f"bill #{bill}", f"recovered {-amount} more than was owed")
            for bill, amount in sorted(left.items()) if amount < 0]


def collection_breaches() -> list[Breach]:
    return (collected_equals_booked() + shares_add_up() + paid_bills_unsettled() + paid_transactions_stuck()
            + escrow_on_stated_amount() + suspense_equals_unmatched_lines() + reversal_receivable_not_negative())
