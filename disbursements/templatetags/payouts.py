"""The transaction page's payout card. A template tag, so that the transaction page (an app below
this one) shows payouts without importing them."""
from django import template

from transactions.page_cache import SHOWN_DEADLINES

from ..selectors import OPEN_PAYOUT, payout_outlooks, payouts_for

register = template.Library()


@register.inclusion_tag("disbursements/_payouts.html", takes_context=True)
def payouts_card(context, escrow_transaction):
    """The payouts ``request.user`` receives from the transaction, with their parts, and for an
    open payout the honest expected time: the whole queue played forward under the daily limit
    and the night window (``selectors.payout_schedule``, a constant number of queries), as kept
    for ``PAYOUT_OUTLOOK_SECONDS`` (``selectors.payout_outlooks``)."""
    if not getattr(escrow_transaction, "viewer_payouts_exist", True):
        # The transaction page's own query found none for this viewer
        # (``transactions.selectors.transaction_detail_for_party``): nothing to ask again.
        return {"payouts": []}
    payouts = list(payouts_for(escrow_transaction=escrow_transaction, user=context["request"].user))
    open_payouts = [payout for payout in payouts if payout.status in OPEN_PAYOUT]
    outlooks = payout_outlooks(payouts=open_payouts)
    shown_deadlines = context.get(SHOWN_DEADLINES)
    for payout in open_payouts:
        payout.outlook = outlooks.get(payout.pk)
        if shown_deadlines is not None:
            # By the clock alone, the card turns "later than promised" at the promise, and an expected
            # time that passes is shown as now: a kept page must not outlive either.
            shown_deadlines += [payout.due_at, getattr(payout.outlook, "expected_at", None)]
    return {"payouts": payouts}
