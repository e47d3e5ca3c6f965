import datetime as dt

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from intrasa import locks

from .models import Notification


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def send_notification_email(notification_id: int) -> None:
    """Send one notification's email at most once: the row is locked and marked in one transaction."""
    with transaction.atomic():
        notification = locks.lock_first(Notification.objects.filter(pk=notification_id, email_sent_at__isnull=True))
        if notification is None or not notification.email:
            return
        link = notification.link
        if link.startswith("/"):
            link = settings.SITE_URL + link
        context = {"notification": notification, "link": link}
        with translation.override(notification.language):
            text = render_to_string("notifications/email.txt", context)
            html = render_to_string("notifications/email.html", context)
        message = EmailMultiAlternatives(notification.subject, text, to=[notification.email])
        message.attach_alternative(html, "text/html")
        message.send()
        notification.email_sent_at = timezone.now()
        notification.save(update_fields=["email_sent_at"])


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def send_pending_emails() -> int:
    """Safety net: emails whose task was never enqueued or never finished (broker down, worker
    killed) are sent here; ``send_notification_email`` still sends each at most once."""
    cutoff = timezone.now() - dt.timedelta(minutes=2)
    ids = list(Notification.objects.filter(email_sent_at__isnull=True, created_at__lte=cutoff)
               .exclude(email="").values_list("pk", flat=True)[:500])
    for pk in ids:
        send_notification_email(pk)
    return len(ids)
