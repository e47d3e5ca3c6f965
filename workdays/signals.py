"""Signals other apps use to follow the working-day calendar without workdays depending on them."""
from django.dispatch import Signal

# Sent after commit when staff changed the calendar (an override added, changed or removed), once the
# cached calendar is forgotten. Disbursements counts the open payouts' promises again on it at once
# (``disbursements.services.on_calendar_changed``). No kwargs.
calendar_changed = Signal()
