"""Reads of a person's notifications.

**The header's badge counts up to ``BADGE_COUNTS_UP_TO`` and then says "99+".** Every logged-in page
shows it, so its count is read on every page: counting stops at ``BADGE_COUNTS_UP_TO + 1`` rows (an index
range, ``LIMIT``), and what a page costs does not grow with how many notifications someone left unread.
The notification list says the exact number (``unread_count``): it is the one page about them. The
transaction page reads the same capped count in its own statement (``transactions.selectors`` and the
PL/pgSQL function of migration transactions 0010, which spells the cap out: 100 rows).
"""
from .models import Notification

BADGE_COUNTS_UP_TO = 99


def unread_notifications(*, recipient_id: int):
    return Notification.objects.filter(recipient_id=recipient_id, read_at__isnull=True)


def unread_counted_for_badge(*, recipient_id: int):
    """The unread rows the badge counts: at most ``BADGE_COUNTS_UP_TO + 1`` of them, as a query (counted
    here, and inside the transaction page's own statement). Without the model's date ordering: a sliced
    query keeps it, and sorting would read every unread row to find the first hundred (the index is on
    recipient and read_at)."""
    return unread_notifications(recipient_id=recipient_id).order_by().values("pk")[:BADGE_COUNTS_UP_TO + 1]


def unread_count_for_badge(*, user) -> int:
    """The unread count as far as the badge shows it: exact up to ``BADGE_COUNTS_UP_TO``, then
    ``BADGE_COUNTS_UP_TO + 1`` for anything more (shown as "99+")."""
    return unread_counted_for_badge(recipient_id=user.pk).count()


def unread_count(*, user) -> int:
    """The exact unread count (the notification list)."""
    return unread_notifications(recipient_id=user.pk).count()
