from django.utils.functional import SimpleLazyObject

from .selectors import unread_count_for_badge


def unread_notifications(request):
    """The unread count in the header; one query, and only on pages that show it. A page whose own
    query read the count already passes ``unread_notification_count`` in its context, which takes
    precedence over this one, and this lazy count is then never evaluated. Counted as far as the badge
    shows it (``notifications.selectors``): a page's cost does not grow with unread notifications."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notification_count": SimpleLazyObject(lambda: unread_count_for_badge(user=user))}
