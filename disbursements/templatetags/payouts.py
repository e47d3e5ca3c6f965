"""The transaction page's payout card. A template tag, so that the transaction page (an app below
this one) shows payouts without importing them."""
from django import template

from ..selectors import OPEN_PAYOUT, payout_schedule, payouts_for

register = template.Library()


@register.inclusion_tag("disbursements/_payouts.html", takes_context=True)
def payouts_card(context, escrow_transaction):
    """The payouts ``request.user`` receives from the transaction, with their parts, and for an
    open payout the honest expected time: the whole queue played forward under the daily limit
    and the night window (``selectors.payout_schedule``, a constant number of queries)."""
    if not getattr(escrow_transaction, "viewer_payouts_exist", True):
        # The transaction page's own query found none for this viewer
        # (``transactions.selectors.transaction_detail_for_party``): nothing to ask again.
        return {"payouts": []}
    payouts = list(payouts_for(escrow_transaction=escrow_transaction, user=context["request"].user))
    if any(payout.status in OPEN_PAYOUT for payout in payouts):
        outlooks, _plan = payout_schedule()
        for payout in payouts:
            payout.outlook = outlooks.get(payout.pk)
    return {"payouts": payouts}
