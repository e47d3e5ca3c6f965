from django.utils.functional import SimpleLazyObject


def unread_notifications(request):
    """The unread count in the header; one query, and only on pages that show it. A page whose own
    query read the count already passes ``unread_notification_count`` in its context, which takes
    precedence over this one, and this lazy count is then never evaluated."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notification_count": SimpleLazyObject(
            lambda: user.notifications.filter(read_at__isnull=True).count()
        )
    }
