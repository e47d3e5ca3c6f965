"""The transaction page's payout card. A template tag, so that the transaction page (an app below
this one) shows payouts without importing them."""
from django import template

from ..selectors import payouts_for

register = template.Library()


@register.inclusion_tag("disbursements/_payouts.html", takes_context=True)
def payouts_card(context, escrow_transaction):
    """The payouts ``request.user`` receives from the transaction, with their parts (two queries)."""
    return {"payouts": payouts_for(escrow_transaction=escrow_transaction, user=context["request"].user)}
