"""The in-app notification list. Thin: reads the user's own rows, marks them read through the service."""
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from .models import Notification
from .selectors import unread_count
from .services import notification_mark_read


@login_required
@require_GET
def notification_list(request):
    page = Paginator(request.user.notifications.all(), 25).get_page(request.GET.get("page"))
    # The exact number here, where the list is (the header's badge stops counting at "99+").
    return render(request, "notifications/list.html", {"page": page,
                                                       "unread_notification_count": unread_count(user=request.user)})


@login_required
@require_GET
def notification_open(request, pk):
    """Mark one notification read and go where it points.

    A GET that changes state, on purpose: it is what following a link means, and all it can do is
    mark the user's own notification read (someone else's is 404). Only links inside INTRASA are
    followed, so a stored link can never become an open redirect.
    """
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    notification_mark_read(user=request.user, notification_ids=[notification.pk])
    link = notification.link
    if link.startswith(settings.SITE_URL + "/"):
        link = link[len(settings.SITE_URL):]
    if link and url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()},
                                                 require_https=request.is_secure()):
        return redirect(link)
    return redirect("notifications:list")


@login_required
@require_POST
def notification_read_all(request):
    notification_mark_read(user=request.user)
    return redirect("notifications:list")
