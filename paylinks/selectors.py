"""Reading payment links with a constant number of queries per page."""
from django.db.models import Count, Q
from django.http import Http404

from transactions.models import EscrowTransaction, Status
from transactions.selectors import with_refund_outstanding

from .models import PaymentLink


def payment_link_list_for_seller(*, seller):
    """The seller's links, each with how many transactions it started, how many count against its
    limit, and of those how many await payment (``unpaid``: holds, ``paylinks.services``) and how
    many are paid (``paid``) — in the one query of the list."""
    from .services import ENDED_UNPAID

    status = "uses__escrow_transaction__status"
    return (PaymentLink.objects.filter(seller=seller)
            .annotate(started=Count("uses"),
                      counted=Count("uses", filter=~Q(**{f"{status}__in": ENDED_UNPAID})),
                      unpaid=Count("uses", filter=Q(**{status: Status.CREATED})),
                      paid=Count("uses", filter=~Q(**{f"{status}__in": (*ENDED_UNPAID, Status.CREATED)})))
            .order_by("-created_at"))


def payment_link_get_public(*, token: str) -> PaymentLink | None:
    """The link behind a token, with its seller; ``None`` for an unknown token (the page says so)."""
    return PaymentLink.objects.select_related("seller").filter(token=token).first()


def payment_link_get_for_seller(*, seller, token: str) -> PaymentLink:
    link = payment_link_list_for_seller(seller=seller).select_related("seller").filter(token=token).first()
    if link is None:
        raise Http404
    return link


def payment_link_unpaid_holds(*, buyer):
    """The buyer's transactions from payment links, every link and seller, that await payment: the
    holds ``INTRASA_PAYMENT_LINK_UNPAID_PER_BUYER`` bounds (``paylinks.services``), soonest due first."""
    return (EscrowTransaction.objects.filter(payment_link_use__buyer=buyer, status=Status.CREATED)
            .order_by("payment_due_at", "pk"))


def payment_link_transactions(*, payment_link: PaymentLink):
    """The transactions a link started, newest first, with their buyers."""
    return with_refund_outstanding(EscrowTransaction.objects.select_related("buyer", "seller")
                                   .filter(payment_link_use__payment_link=payment_link)).order_by("-created_at")
