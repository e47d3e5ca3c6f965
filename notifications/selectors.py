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


def unread_notifications(*, user):
    return Notification.objects.filter(recipient=user, read_at__isnull=True)


def unread_count_for_badge(*, user) -> int:
    """The unread count as far as the badge shows it: exact up to ``BADGE_COUNTS_UP_TO``, then
    ``BADGE_COUNTS_UP_TO + 1`` for anything more (shown as "99+")."""
    # Without the model's ordering: a sliced count keeps it, and sorting by date would read every unread
    # row to find the first hundred (the index is on recipient and read_at).
    return unread_notifications(user=user).order_by()[:BADGE_COUNTS_UP_TO + 1].count()


def unread_count(*, user) -> int:
    """The exact unread count (the notification list)."""
    return unread_notifications(user=user).count()
