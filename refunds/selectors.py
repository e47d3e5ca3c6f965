"""Reading refund requests with a constant number of queries per page."""
from django.db.models import CharField, OuterRef, Subquery
from django.db.models.functions import Cast
from django.http import Http404

from accounts.models import PayoutDestination
from accounts.selectors import payout_destination_default
from audit.models import AuditEntry

from . import access
from .models import RefundDocument, RefundRequest


def refund_requests_for(*, escrow_transaction):
    return (RefundRequest.objects.filter(escrow_transaction=escrow_transaction)
            .select_related("destination", "payout", "handler", "return_shipment", "bill")
            .prefetch_related("documents", "payout__parts__destination").order_by("created_at"))


def refund_transfers(*, refund_request) -> list:
    """The transfers that actually reached the buyer for this request (SendMe reported them paid):
    amount, when, and where (``destination.label``, masked). Uses the prefetched parts."""
    from disbursements.models import Disbursement

    if refund_request.payout_id is None:
        return []
    return [part for part in refund_request.payout.parts.all() if part.status == Disbursement.Status.SUCCEEDED]


# An account whose holder name was found to be someone else's (by the bank's inquiry, or by Finance for
# an e-wallet), or that cannot receive at all: no refund can go there (``policy``: substitute accounts).
REFUSED_FOR_REFUNDS = ("name_mismatch", "invalid")


def refund_accounts_usable(*, buyer):
    """The buyer's accounts a refund may still be sent to: the refund page offers these and no others."""
    return buyer.payout_destinations.filter(is_archived=False).exclude(verification__in=REFUSED_FOR_REFUNDS)


# The audit row Finance's e-wallet check writes (``accounts.services.payout_destination_review_ewallet``):
# its ``reason`` is what Finance said, and the only place those words are kept.
EWALLET_REVIEW_ACTION = "payout_destination.ewallet_review"


def refund_accounts_refused(*, buyer) -> list:
    """The buyer's accounts no refund can go to, with the name found on them and, for an e-wallet Finance
    refused, Finance's own words (``refusal_reason``, from their latest refusal in the audit trail): the
    refund page says why they are not offered, so a buyer whose account was refused knows what to add
    instead. One query."""
    refusals = (AuditEntry.objects.filter(action=EWALLET_REVIEW_ACTION, object_type=PayoutDestination._meta.label,
                                          object_id=Cast(OuterRef("pk"), CharField()), data__confirmed=False)
                .order_by("-created_at", "-id").values("reason")[:1])
    return list(buyer.payout_destinations.filter(is_archived=False, verification__in=REFUSED_FOR_REFUNDS)
                .annotate(refusal_reason=Subquery(refusals)).order_by("created_at"))


def return_shipment_of(refund_request):
    """The request's return shipment (``None`` when the goods do not come back); a 404 for a step
    posted to a request without one."""
    from .models import ReturnShipment

    try:
        return refund_request.return_shipment
    except ReturnShipment.DoesNotExist:
        return None


def refund_request_get_for_buyer(*, user, pk: int) -> RefundRequest:
    try:
        return RefundRequest.objects.select_related("escrow_transaction").get(pk=pk, buyer=user)
    except RefundRequest.DoesNotExist:
        raise Http404 from None


def refund_request_get_for_seller(*, user, pk: int) -> RefundRequest:
    try:
        return RefundRequest.objects.select_related("escrow_transaction").get(pk=pk, escrow_transaction__seller=user)
    except RefundRequest.DoesNotExist:
        raise Http404 from None


def refund_document_get_for_user(*, user, pk: int) -> RefundDocument:
    """A document's file for whoever ``refunds.access`` lets see it; anyone else gets 404."""
    doc = RefundDocument.objects.select_related("request__escrow_transaction").filter(pk=pk).first()
    if doc is None or not doc.file or not access.may_see_refund_document(user, doc):
        raise Http404
    return doc


def refund_requests_visible_to(*, user, escrow_transaction) -> list[RefundRequest]:
    """The requests of a transaction ``user`` may see, each with ``shown_documents`` (the documents
    ``user`` may see) and ``shown_destination`` (the refund account, or ``None`` if not theirs to
    see): the refund page and the transaction page show nothing else."""
    shown = []
    for req in refund_requests_for(escrow_transaction=escrow_transaction):
        req.escrow_transaction = escrow_transaction  # already loaded: the checks need no query
        if not access.may_see_refund_request(user, req):
            continue
        documents = list(req.documents.all())
        for doc in documents:
            doc.request = req
        req.shown_documents = [doc for doc in documents if access.may_see_refund_document(user, doc)]
        req.shown_destination = req.destination if access.may_see_refund_account(user, req) else None
        shown.append(req)
    return shown


def refund_transfer_destination(refund_request):
    """The account an approval would pay now: the one the buyer chose for this refund, otherwise
    the buyer's default (``disbursements.services.payout_plan`` picks it the same way); ``None``
    when the buyer has none yet (the payout then waits for one)."""
    return refund_request.destination or payout_destination_default(owner=refund_request.buyer)
