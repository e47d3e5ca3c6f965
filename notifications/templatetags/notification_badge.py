from django import template

from notifications.selectors import BADGE_COUNTS_UP_TO

register = template.Library()


@register.filter
def badge_count(count) -> str:
    """The header's unread badge: the number, or "99+" past ``BADGE_COUNTS_UP_TO`` (counted only that far)."""
    # Compared and printed, not converted: the context processor's count is a lazy object.
    return f"{BADGE_COUNTS_UP_TO}+" if count > BADGE_COUNTS_UP_TO else str(count)
