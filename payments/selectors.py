from django.db.models import Exists, Q, QuerySet, Sum
from django.http import Http404

from ledger.models import AccountCategory, EntryKind, Posting
from transactions.models import EscrowTransaction

from .models import Bill, BillShare

# Who bills transactions together: apps above payments register a resolver (``bill_group_register``)
# that, given a transaction, names the transactions (its own included, the first one first) the
# buyer pays with one bill — a milestone plan paid up front (``milestones.apps``). payments cannot
# import them (DESIGN.md §2). Without a resolver that answers, a transaction is billed alone.
_BILL_GROUPS: list = []


def bill_group_register(resolver) -> None:
    """Add ``resolver(escrow_transaction) -> list[int] | None``: the primary keys billed together."""
    if resolver not in _BILL_GROUPS:
        _BILL_GROUPS.append(resolver)


def billed_together(*, escrow_transaction) -> list[int]:
    """The primary keys of the transactions a bill for ``escrow_transaction`` would pay (itself alone,
    unless a registered resolver groups it); ``payments.services`` keeps those still payable."""
    for resolver in _BILL_GROUPS:
        group = resolver(escrow_transaction)
        if group and escrow_transaction.pk in group:
            return list(group)
    return [escrow_transaction.pk]


def payable_together(*, escrow_transaction) -> list[EscrowTransaction]:
    """What the buyer's next bill for ``escrow_transaction`` pays: the transactions billed together
    with it that wait for this buyer's payment (the pay page shows them and their total)."""
    ids = billed_together(escrow_transaction=escrow_transaction)
    if ids == [escrow_transaction.pk]:
        return [escrow_transaction]
    rows = EscrowTransaction.objects.filter(pk__in=ids, status=escrow_transaction.status,
                                            buyer_id=escrow_transaction.buyer_id).in_bulk()  # CREATED: payable
    return [rows[pk] for pk in ids if pk in rows] or [escrow_transaction]


def transaction_get_for_buyer(*, user, reference: str) -> EscrowTransaction:
    """The buyer's transaction; the seller and strangers get 404 (the pay page is the buyer's)."""
    try:
        return EscrowTransaction.objects.select_related("seller", "buyer").get(reference=reference, buyer=user)
    except EscrowTransaction.DoesNotExist:
        raise Http404 from None


def bills_of(*, escrow_transaction) -> QuerySet[Bill]:
    """Every bill that pays ``escrow_transaction``: its own, and the bills it shares with other
    transactions (a milestone plan paid up front: ``BillShare``)."""
    return Bill.objects.filter(Q(escrow_transaction=escrow_transaction)
                               | Q(pk__in=BillShare.objects.filter(escrow_transaction=escrow_transaction).values("bill")))


def bill_funding(*, escrow_transaction) -> Bill | None:
    """The bill that funded the transaction's escrow: an ordinary bill verified as its payment (in
    full or with an excess), or a shared bill whose share for it was held."""
    own = (Bill.objects.filter(escrow_transaction=escrow_transaction, status=Bill.Status.VERIFIED,
                               flag__in=[Bill.Flag.NONE, Bill.Flag.EXCESS])
           .exclude(pk__in=BillShare.objects.values("bill")))
    shared = Bill.objects.filter(status=Bill.Status.VERIFIED, pk__in=BillShare.objects.filter(
        escrow_transaction=escrow_transaction, held=True).values("bill"))
    return (own | shared).order_by("pk").first()


def clearing_booked_in(*, categories, transaction_ids=None) -> dict[int, int]:
    """Cash the ledger booked in per transaction through the clearing accounts ``categories``: their debits by
    verified and owed-back payments, less their credits by payments the provider took back (a booked
    reversal). Only ``transaction_ids`` when given. Two queries. The collection cross-check and the nightly
    Faspay reconciliation both compare this with what was collected."""
    booked: dict[int, int] = {}
    for kinds, side, sign in (([EntryKind.PAYMENT_VERIFIED, EntryKind.PAYMENT_UNMATCHED], Posting.Side.DEBIT, 1),
                              ([EntryKind.PAYMENT_TAKEN_BACK], Posting.Side.CREDIT, -1)):
        rows = Posting.objects.filter(side=side, account__category__in=list(categories), entry__kind__in=kinds,
                                      entry__escrow_transaction__isnull=False)
        if transaction_ids is not None:
            rows = rows.filter(entry__escrow_transaction__in=transaction_ids)
        for row in rows.values("entry__escrow_transaction").annotate(total=Sum("amount")):
            pk = row["entry__escrow_transaction"]
            booked[pk] = booked.get(pk, 0) + sign * row["total"]
    return booked


def bill_owed_back(*, bill) -> tuple[dict[int, int], bool]:
    """What ``bill`` owed back to the buyer, per transaction, by the ledger (``payments.services._owe_back``'s
    entries, keyed ``bill:<pk>:…``), and whether it could not fund its own transaction at all (owed back
    in full: paid short, twice, or after the transaction closed). One query."""
    per_transaction: dict[int, int] = {}
    not_funding = False
    rows = Posting.objects.filter(
        entry__kind=EntryKind.PAYMENT_UNMATCHED, entry__idempotency_key__startswith=f"bill:{bill.pk}:",
        side=Posting.Side.CREDIT, account__category=AccountCategory.BUYER_REFUND_PAYABLE,
    ).values_list("entry__escrow_transaction_id", "entry__idempotency_key", "amount")
    for txn_id, key, amount in rows:
        per_transaction[txn_id] = per_transaction.get(txn_id, 0) + amount
        not_funding = not_funding or key.rsplit(":", 1)[-1] in ("short", "double", "late")
    return per_transaction, not_funding


def bill_money_by_transaction(*, bill, members) -> dict[int, tuple[int, int, int]]:
    """What the verified ``bill`` brought in for each of ``members`` (the transactions it paid), by the ledger:
    (into the escrow hold from the clearing account, INTRASA's unique-code discount added to it, owed back to
    the buyer). Two queries."""
    owed_back, not_funding = bill_owed_back(bill=bill)
    shares = {share.escrow_transaction_id: share for share in bill_shares(bill=bill)}
    money = {}
    for member in members:
        discount = bill.unique_code if member.pk == bill.escrow_transaction_id else 0
        if shares:
            share = shares[member.pk]
            funded = share.amount if share.held else 0
        else:
            funded = 0 if not_funding or member.verified_at is None else bill.amount
        money[member.pk] = (funded, discount if funded else 0, owed_back.get(member.pk, 0))
    return money


def bill_funded_transactions(*, bill: Bill) -> set[int]:
    """The transactions whose escrow the verified ``bill`` funded (``bill_money_by_transaction``); empty for
    a bill that was never verified. A few queries."""
    if bill.status not in (Bill.Status.VERIFIED, Bill.Status.REVERSED):
        return set()
    shares = bill_shares(bill=bill)
    ids = [share.escrow_transaction_id for share in shares] or [bill.escrow_transaction_id]
    members = list(EscrowTransaction.objects.filter(pk__in=ids).only("id", "verified_at"))
    return {pk for pk, (funded, _discount, _owed) in bill_money_by_transaction(bill=bill, members=members).items()
            if funded}


def reversal_to_recover(*, bill) -> int:
    """What a booked reversal of ``bill`` left owed to INTRASA and finance have not recovered or written off
    yet: the reversal receivable's postings of that bill (keyed ``bill:<pk>:…``). One query."""
    rows = Posting.objects.filter(account__category=AccountCategory.REVERSAL_RECEIVABLE,
                                  entry__idempotency_key__startswith=f"bill:{bill.pk}:").values_list("side", "amount")
    return sum(amount if side == Posting.Side.DEBIT else -amount for side, amount in rows)


def bill_shares(*, bill) -> list[BillShare]:
    """The transactions a shared bill pays, in the order they were billed (empty for an ordinary bill)."""
    return list(bill.shares.select_related("escrow_transaction").order_by("pk"))


def bill_current(*, escrow_transaction) -> Bill | None:
    """The bill to show: the open one, else the latest paid one (a shared bill included)."""
    bills = bills_of(escrow_transaction=escrow_transaction).order_by("-created_at")
    return (bills.filter(status__in=[Bill.Status.PENDING, Bill.Status.CREATING]).first()
            or bills.filter(status__in=[Bill.Status.PAID, Bill.Status.VERIFIED]).first())


# Faspay has not answered INTRASA's status inquiries about the bill for a day (finance were told:
# ``payments.services.bill_inquiry_failed``), and INTRASA still asks (a bill settled meanwhile is asked no
# more). Finance's queue "Faspay does not answer"; ``Bill.inquiry_unanswered`` is the same for one bill.
INQUIRY_UNANSWERED = Q(inquiry_reported_at__isnull=False, next_check_at__isnull=False)


# Faspay reported the payment reversed (the flag) and staff have not booked it yet (the status).
REVERSAL_UNBOOKED = Q(flag=Bill.Flag.REVERSED, status__in=[Bill.Status.PAID, Bill.Status.VERIFIED])


def bills_reversed(*, escrow_transaction):
    """The bills of this transaction whose payment the provider reversed and staff have not booked yet
    (``escrow.services.escrow_book_provider_reversal``): while there is one, the money is not INTRASA's
    to release or refund. A query, so a release can count it in its own write, after the transaction's
    lock. Once booked, the ledger no longer counts that money, and the transaction's other money (a
    later payment) moves again."""
    return bills_of(escrow_transaction=escrow_transaction).filter(REVERSAL_UNBOOKED)


def unbooked_reversal_of(transaction_ref) -> Exists:
    """``EXISTS`` a bill of the transaction ``transaction_ref`` (an ``OuterRef`` to its id), own or shared, whose
    payment Faspay reversed and staff have not booked: for a statement that reads it along with its rows
    (a payout part's lock), at no query of its own."""
    return Exists(Bill.objects.filter(REVERSAL_UNBOOKED).filter(
        Q(escrow_transaction=transaction_ref) | Q(shares__escrow_transaction=transaction_ref)))


def transactions_with_reversed_payment(*, ids) -> set[int]:
    """Which of the transactions ``ids`` have a payment the provider reversed (``payment_reversed``
    for many at once: two queries, own bills and shared bills)."""
    ids = list(ids)
    if not ids:
        return set()
    own = Bill.objects.filter(REVERSAL_UNBOOKED, escrow_transaction__in=ids).values_list(
        "escrow_transaction_id", flat=True)
    shared = BillShare.objects.filter(bill__in=Bill.objects.filter(REVERSAL_UNBOOKED),
                                      escrow_transaction__in=ids).values_list("escrow_transaction_id", flat=True)
    return set(own) | set(shared)


def payment_reversed(*, escrow_transaction) -> bool:
    """Did the provider reverse a payment of this transaction that staff have not booked yet? (the
    release flows ask first, or count ``bills_reversed`` in their write)."""
    return bills_reversed(escrow_transaction=escrow_transaction).exists()
