from django import template

from refunds import policy
from refunds.models import RefundRequest

from ..forms import DisputeOpenForm
from ..models import Dispute

register = template.Library()


@register.inclusion_tag("disputes/_open_form.html", takes_context=True)
def dispute_open_form(context, escrow_transaction):
    """The buyer's "report a problem" form on the transaction page."""
    return {"txn": escrow_transaction, "form": DisputeOpenForm(), "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("disputes/_card.html", takes_context=True)
def dispute_card(context, escrow_transaction):
    """The dispute and refund summary of the transaction page (two queries)."""
    dispute = Dispute.objects.filter(escrow_transaction=escrow_transaction).first()
    refunds = list(RefundRequest.objects.filter(escrow_transaction=escrow_transaction).order_by("created_at"))
    return {"txn": escrow_transaction, "dispute": dispute, "refunds": refunds,
            "whatsapp_link": policy.whatsapp_link(escrow_transaction.reference),
            "is_buyer": context["request"].user.pk == escrow_transaction.buyer_id}
