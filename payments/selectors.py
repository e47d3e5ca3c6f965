from django.db.models import Q, QuerySet
from django.http import Http404

from transactions.models import EscrowTransaction

from .models import Bill, BillShare


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


def payment_reversed(*, escrow_transaction) -> bool:
    """Did the provider reverse a payment of this transaction that INTRASA had verified? Then the
    money is not INTRASA's to release until staff sort it out (the release flows ask first)."""
    return bills_of(escrow_transaction=escrow_transaction).filter(flag=Bill.Flag.REVERSED).exists()
