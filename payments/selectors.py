from django.http import Http404

from transactions.models import EscrowTransaction

from .models import Bill


def transaction_get_for_buyer(*, user, reference: str) -> EscrowTransaction:
    """The buyer's transaction; the seller and strangers get 404 (the pay page is the buyer's)."""
    try:
        return EscrowTransaction.objects.select_related("seller", "buyer").get(reference=reference, buyer=user)
    except EscrowTransaction.DoesNotExist:
        raise Http404 from None


def bill_current(*, escrow_transaction) -> Bill | None:
    """The bill to show: the open one, else the latest paid one."""
    bills = escrow_transaction.bills.order_by("-created_at")
    return (bills.filter(status__in=[Bill.Status.PENDING, Bill.Status.CREATING]).first()
            or bills.filter(status__in=[Bill.Status.PAID, Bill.Status.VERIFIED]).first())


def payment_reversed(*, escrow_transaction) -> bool:
    """Did the provider reverse a payment of this transaction that INTRASA had verified? Then the
    money is not INTRASA's to release until staff sort it out (the release flows ask first)."""
    return escrow_transaction.bills.filter(flag=Bill.Flag.REVERSED).exists()
