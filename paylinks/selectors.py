"""Reading payment links with a constant number of queries per page."""
from django.db.models import Count, Q
from django.http import Http404

from transactions.selectors import with_refund_outstanding

from .models import PaymentLink


def payment_link_list_for_seller(*, seller):
    """The seller's links, each with how many transactions it started (and how many count)."""
    from .services import ENDED_UNPAID

    return (PaymentLink.objects.filter(seller=seller)
            .annotate(started=Count("uses"),
                      counted=Count("uses", filter=~Q(uses__escrow_transaction__status__in=ENDED_UNPAID)))
            .order_by("-created_at"))


def payment_link_get_public(*, token: str) -> PaymentLink | None:
    """The link behind a token, with its seller; ``None`` for an unknown token (the page says so)."""
    return PaymentLink.objects.select_related("seller").filter(token=token).first()


def payment_link_get_for_seller(*, seller, token: str) -> PaymentLink:
    link = payment_link_list_for_seller(seller=seller).select_related("seller").filter(token=token).first()
    if link is None:
        raise Http404
    return link


def payment_link_transactions(*, payment_link: PaymentLink):
    """The transactions a link started, newest first, with their buyers."""
    from transactions.models import EscrowTransaction

    return with_refund_outstanding(EscrowTransaction.objects.select_related("buyer", "seller")
                                   .filter(payment_link_use__payment_link=payment_link)).order_by("-created_at")
