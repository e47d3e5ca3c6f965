from django.db.models import Q, QuerySet
from django.http import Http404

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


def bill_shares(*, bill) -> list[BillShare]:
    """The transactions a shared bill pays, in the order they were billed (empty for an ordinary bill)."""
    return list(bill.shares.select_related("escrow_transaction").order_by("pk"))


def bill_current(*, escrow_transaction) -> Bill | None:
    """The bill to show: the open one, else the latest paid one (a shared bill included)."""
    bills = bills_of(escrow_transaction=escrow_transaction).order_by("-created_at")
    return (bills.filter(status__in=[Bill.Status.PENDING, Bill.Status.CREATING]).first()
            or bills.filter(status__in=[Bill.Status.PAID, Bill.Status.VERIFIED]).first())


def bills_reversed(*, escrow_transaction):
    """The bills of this transaction whose payment the provider reversed after INTRASA verified it:
    while there is one, the money is not INTRASA's to release until staff sort it out. A query, so
    a release can count it in its own write, after the transaction's lock."""
    return bills_of(escrow_transaction=escrow_transaction).filter(flag=Bill.Flag.REVERSED)


def transactions_with_reversed_payment(*, ids) -> set[int]:
    """Which of the transactions ``ids`` have a payment the provider reversed (``payment_reversed``
    for many at once: two queries, own bills and shared bills)."""
    ids = list(ids)
    if not ids:
        return set()
    own = Bill.objects.filter(flag=Bill.Flag.REVERSED, escrow_transaction__in=ids).values_list(
        "escrow_transaction_id", flat=True)
    shared = BillShare.objects.filter(bill__flag=Bill.Flag.REVERSED, escrow_transaction__in=ids).values_list(
        "escrow_transaction_id", flat=True)
    return set(own) | set(shared)


def payment_reversed(*, escrow_transaction) -> bool:
    """Did the provider reverse a payment of this transaction that INTRASA had verified? (the
    release flows ask first, or count ``bills_reversed`` in their write)."""
    return bills_reversed(escrow_transaction=escrow_transaction).exists()
