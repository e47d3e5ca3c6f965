"""Reading refund requests with a constant number of queries per page."""
from django.http import Http404

from .models import RefundDocument, RefundRequest


def refund_requests_for(*, escrow_transaction):
    return (RefundRequest.objects.filter(escrow_transaction=escrow_transaction)
            .select_related("destination", "payout").prefetch_related("documents").order_by("created_at"))


def refund_request_get_for_buyer(*, user, pk: int) -> RefundRequest:
    try:
        return RefundRequest.objects.select_related("escrow_transaction").get(pk=pk, buyer=user)
    except RefundRequest.DoesNotExist:
        raise Http404 from None


def refund_document_get_for_user(*, user, pk: int) -> RefundDocument:
    """A document's file for the buyer who filed it, the seller, or staff allowed to view it."""
    doc = RefundDocument.objects.select_related("request__escrow_transaction").filter(pk=pk).first()
    if doc is None or not doc.file or not user.is_authenticated:
        raise Http404
    txn = doc.request.escrow_transaction
    if user.pk in (txn.buyer_id, txn.seller_id):
        return doc
    if user.is_staff and user.has_perm("refunds.view_refunddocument"):
        return doc
    raise Http404
