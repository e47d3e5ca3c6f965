"""Sending notification emails: after commit, outside any database transaction, with a timeout.

The row is the outbox. A worker first *claims* the email with one conditional UPDATE that commits
at once (``email_claimed_at``), then talks to the SMTP server holding no lock and no open
transaction (DESIGN.md §3: a slow mail server must never hold a row lock or a database
connection's transaction), then marks it sent in another short statement. Two workers given the
same task (Redis redelivers; the periodic sweep overlaps) cannot both claim it, so one email goes
out. A failed send gives the claim back for the sweep to retry. Only a worker that dies between the
SMTP server's acceptance and the mark leaves a claim to expire (``CLAIM_LEASE``, longer than the
task's hard time limit): the email is then sent again, once — the price of not holding a lock
over the network, and harmless for a notification.
"""
import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import Notification

logger = logging.getLogger(__name__)
# How long a claim stands before the sweep may send again: well beyond the task's hard time limit
# (settings.CELERY_EMAIL_TASK_TIME_LIMIT) and the SMTP timeout (settings.EMAIL_TIMEOUT).
CLAIM_LEASE = dt.timedelta(minutes=10)


def _claimable(now):
    return Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=now - CLAIM_LEASE)


def _claim(notification_id: int):
    """This worker's claim on the email (its timestamp) and the notification as claimed, or
    ``None`` if it is sent, has no address, or another worker holds it. One autocommitted UPDATE:
    PostgreSQL re-checks the condition after a concurrent claim commits, so exactly one claimant
    wins. On PostgreSQL the same statement returns the row and its recipient (``RETURNING`` in a
    CTE joined to the user), so claiming and reading the email cost one round trip."""
    now = timezone.now()
    if connection.vendor == "postgresql":
        notification = _claim_returning(notification_id, now)
        return (now, notification) if notification is not None else None
    won = (Notification.objects.filter(_claimable(now), pk=notification_id, email_sent_at__isnull=True)
           .exclude(email="").update(email_claimed_at=now))
    if not won:
        return None
    return now, Notification.objects.select_related("recipient").get(pk=notification_id)


def _claim_returning(notification_id: int, now) -> Notification | None:
    User = Notification.recipient.field.related_model  # noqa: N806 - a model class

    quote = connection.ops.quote_name
    own_fields, person_fields = Notification._meta.concrete_fields, User._meta.concrete_fields
    own = [str(field.column) for field in own_fields]
    person = [str(field.column) for field in person_fields]
    sql = (f"WITH claimed AS (UPDATE {quote(Notification._meta.db_table)} SET email_claimed_at = %s "
           f"WHERE id = %s AND email_sent_at IS NULL AND email <> '' "
           f"AND (email_claimed_at IS NULL OR email_claimed_at < %s) RETURNING *) "
           f"SELECT {', '.join('claimed.' + quote(column) for column in own)}, "
           f"{', '.join('person.' + quote(column) for column in person)} "
           f"FROM claimed LEFT JOIN {quote(User._meta.db_table)} person ON person.id = claimed.recipient_id")
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, notification_id, now - CLAIM_LEASE])
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for field, value in zip([*own_fields, *person_fields], row, strict=True):
        column = field.get_col(field.model._meta.db_table)
        for converter in [*connection.ops.get_db_converters(column), *column.get_db_converters(connection)]:
            value = converter(value, column, connection)
        values.append(value)
    notification = Notification.from_db(connection.alias, [field.attname for field in own_fields], values[:len(own)])
    recipient = (User.from_db(connection.alias, [field.attname for field in person_fields], values[len(own):])
                 if notification.recipient_id else None)
    Notification.recipient.field.set_cached_value(notification, recipient)
    return notification


@shared_task(acks_late=True, task_reject_on_worker_lost=True,
             soft_time_limit=settings.CELERY_EMAIL_TASK_SOFT_TIME_LIMIT,
             time_limit=settings.CELERY_EMAIL_TASK_TIME_LIMIT)
def send_notification_email(notification_id: int) -> None:
    """Send one notification's email (see the module docstring for the once-only rule)."""
    claimed = _claim(notification_id)
    if claimed is None:
        return
    claimed_at, notification = claimed
    mine = Notification.objects.filter(pk=notification_id, email_claimed_at=claimed_at)
    try:
        link = notification.link
        if link.startswith("/"):
            link = settings.SITE_URL + link
        context = {"notification": notification, "link": link}
        with translation.override(notification.language):
            text = render_to_string("notifications/email.txt", context)
            html = render_to_string("notifications/email.html", context)
        message = EmailMultiAlternatives(notification.subject, text, to=[notification.email])
        message.attach_alternative(html, "text/html")
        message.send()  # SMTP, bounded by EMAIL_TIMEOUT: no transaction is open here
    except BaseException:
        mine.update(email_claimed_at=None)  # give it back: the periodic sweep retries
        raise
    mine.update(email_sent_at=timezone.now())


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def send_pending_emails() -> int:
    """Safety net: emails whose task was never enqueued or never finished (broker down, worker
    killed, SMTP server down) are sent here; ``send_notification_email`` still sends each once."""
    now = timezone.now()
    cutoff = now - dt.timedelta(minutes=2)
    ids = list(Notification.objects.filter(_claimable(now), email_sent_at__isnull=True, created_at__lte=cutoff)
               .exclude(email="").order_by("pk").values_list("pk", flat=True)[:500])
    sent = 0
    for pk in ids:
        try:
            send_notification_email(pk)
        except Exception:  # noqa: BLE001 - one failing address or a mail server down: the next run retries
            logger.exception("could not send notification email %s; the next sweep retries", pk)
        else:
            sent += 1
    return sent
