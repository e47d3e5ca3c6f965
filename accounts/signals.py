"""Signals other apps use to react to people's changes without accounts depending on them."""
from django.dispatch import Signal

# Sent after commit when a payout destination was added; disbursements checks bank accounts with
# SendMe's account inquiry right away rather than at the first payout. kwargs: destination_id
payout_destination_added = Signal()
