from django import template

from refunds.access import may_see_refund_request
from refunds.selectors import refund_requests_on_transaction_page, return_shipment_of

from ..forms import DisputeOpenForm
from ..models import Dispute

register = template.Library()


@register.inclusion_tag("disputes/_open_form.html", takes_context=True)
def dispute_open_form(context, escrow_transaction):
    """The buyer's "report a problem" form on the transaction page."""
    return {"txn": escrow_transaction, "form": DisputeOpenForm(), "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("disputes/_card.html", takes_context=True)
def dispute_card(context, escrow_transaction):
    """The dispute and refund summary of the transaction page. No query when the transaction page's
    own query brought the dispute along and found no refund request
    (``transactions.selectors.transaction_detail_for_party``); otherwise at most two."""
    user = context["request"].user
    try:
        dispute = escrow_transaction.dispute  # loaded with the transaction on its page
    except Dispute.DoesNotExist:
        dispute = None
    refunds = []
    if getattr(escrow_transaction, "refund_requests_exist", True):
        # Each with the page's transaction: the check below needs no query.
        for refund in refund_requests_on_transaction_page(escrow_transaction=escrow_transaction):
            # The return's RMA number, which both parties quote to each other and to the courier.
            refund.shipment = return_shipment_of(refund)
            if may_see_refund_request(user, refund):
                refunds.append(refund)
    return {"txn": escrow_transaction, "dispute": dispute, "refunds": refunds,
            "is_buyer": user.pk == escrow_transaction.buyer_id}
