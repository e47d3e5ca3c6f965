"""Sending notification emails: after commit, outside any database transaction, with a timeout.

The row is the outbox. A worker first *claims* the email with one conditional UPDATE that commits
at once (``email_claimed_at``), then talks to the SMTP server holding no lock and no open
transaction (DESIGN.md §3: a slow mail server must never hold a row lock or a database
connection's transaction), then marks it sent in another short statement. Two workers given the
same task (Redis redelivers; the periodic sweep overlaps) cannot both claim it, so one email goes
out. A failed send gives the claim back for the sweep to retry, not at once but after a backoff
(``email_attempts``, ``email_retry_at``; ``notifications.backoff``), and after too many failures,
or a few permanent refusals, gives up on the email (``email_failed_at``, logged as an error, shown in
the admin): it is never sent again, by the sweep or by any task. So an address the mail server
always refuses costs a handful of tries instead of one every sweep, and the sweep, which takes the
due emails lowest id first, a batch at a time, never spends its whole batch on such emails while a
newer one waits. Only a worker that dies between the SMTP server's acceptance and the mark leaves
a claim to expire (``CLAIM_LEASE``, longer than the task's hard time limit): the email is then
sent again, once — the price of not holding a lock over the network, and harmless for a
notification.

The notifications of one event of one transaction (both parties of a transition), and only
those, travel in one task (``send_notification_emails``): claimed together in one statement,
marked sent together in another after both went out. That widens the window above: a worker
killed while sending the second email (or before the mark) leaves the first unmarked too, so after
the lease both are sent again, the first for a second time. Delivery is at least once, as it always was; the
pair is the most one death can repeat, and unrelated people's emails never share a task (one
refused address or a slow server never holds back or repeats another's). The lease must outlast
the pair task's hard time limit, ``EMAILS_PER_TASK`` times one email's: checked at import.
"""
import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMultiAlternatives
from django.db import connection
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from . import backoff
from .models import Notification

logger = logging.getLogger(__name__)
# How long a claim stands before the sweep may send again: well beyond the task's hard time limit
# (settings.CELERY_EMAIL_TASK_TIME_LIMIT) and the SMTP timeout (settings.EMAIL_TIMEOUT).
CLAIM_LEASE = dt.timedelta(minutes=10)


def _claimable(now):
    """Not held by a worker, not waiting for its next try, not given up."""
    return ((Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=now - CLAIM_LEASE))
            & (Q(email_retry_at__isnull=True) | Q(email_retry_at__lte=now)) & Q(email_failed_at__isnull=True))


def _claim(notification_ids: list[int]):
    """This worker's claim on the emails (its timestamp) and the notifications it won, as claimed,
    in id order — leaving out those sent, without an address, or held by another worker. One
    autocommitted UPDATE: PostgreSQL re-checks the condition of each row after a concurrent claim
    commits, so exactly one claimant wins each. On PostgreSQL the same statement returns the rows
    and their recipients (``RETURNING`` in a CTE joined to the user), so claiming and reading the
    emails cost one round trip, however many there are."""
    now = timezone.now()
    if connection.vendor == "postgresql":
        return now, _claim_returning(notification_ids, now)
    won = []
    for pk in sorted(notification_ids):
        if (Notification.objects.filter(_claimable(now), pk=pk, email_sent_at__isnull=True)
                .exclude(email="").update(email_claimed_at=now)):
            won.append(Notification.objects.select_related("recipient").get(pk=pk))
    return now, won


def _claim_returning(notification_ids: list[int], now) -> list[Notification]:
    User = Notification.recipient.field.related_model  # noqa: N806 - a model class

    quote = connection.ops.quote_name
    own_fields, person_fields = Notification._meta.concrete_fields, User._meta.concrete_fields
    own = [str(field.column) for field in own_fields]
    person = [str(field.column) for field in person_fields]
    sql = (f"WITH claimed AS (UPDATE {quote(Notification._meta.db_table)} SET email_claimed_at = %s "
           f"WHERE id = ANY(%s) AND email_sent_at IS NULL AND email <> '' "
           f"AND (email_claimed_at IS NULL OR email_claimed_at < %s) "
           f"AND (email_retry_at IS NULL OR email_retry_at <= %s) AND email_failed_at IS NULL RETURNING *) "
           f"SELECT {', '.join('claimed.' + quote(column) for column in own)}, "
           f"{', '.join('person.' + quote(column) for column in person)} "
           f"FROM claimed LEFT JOIN {quote(User._meta.db_table)} person ON person.id = claimed.recipient_id "
           f"ORDER BY claimed.id")
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, list(notification_ids), now - CLAIM_LEASE, now])
        rows = cursor.fetchall()
    return [_notification_from_row(row, own_fields, person_fields) for row in rows]


def _notification_from_row(row, own_fields, person_fields) -> Notification:
    User = Notification.recipient.field.related_model  # noqa: N806 - a model class

    values = []
    for field, value in zip([*own_fields, *person_fields], row, strict=True):
        column = field.get_col(field.model._meta.db_table)
        for converter in [*connection.ops.get_db_converters(column), *column.get_db_converters(connection)]:
            value = converter(value, column, connection)
        values.append(value)
    notification = Notification.from_db(connection.alias, [field.attname for field in own_fields],
                                        values[:len(own_fields)])
    recipient = (User.from_db(connection.alias, [field.attname for field in person_fields], values[len(own_fields):])
                 if notification.recipient_id else None)
    Notification.recipient.field.set_cached_value(notification, recipient)
    return notification


def _message(notification: Notification) -> EmailMultiAlternatives:
    link = notification.link
    if link.startswith("/"):
        link = settings.SITE_URL + link
    context = {"notification": notification, "link": link}
    with translation.override(notification.language):
        text = render_to_string("notifications/email.txt", context)
        html = render_to_string("notifications/email.html", context)
    message = EmailMultiAlternatives(notification.subject, text, to=[notification.email])
    message.attach_alternative(html, "text/html")
    return message


def _send_claimed(notification_ids: list[int]) -> None:
    """Claim the emails, send each (SMTP, bounded by EMAIL_TIMEOUT: no transaction is open here),
    then mark those sent in one statement and give the others back for the sweep: the one that
    failed with its next try after a backoff (or given up), those not tried yet as they were. A
    failure is raised again once the emails sent are marked: one refused address does not get
    the others of its batch sent twice."""
    claimed_at, notifications = _claim(notification_ids)
    if not notifications:
        return
    sent: list[int] = []
    failure: BaseException | None = None
    for notification in notifications:
        if failure is not None:
            break
        try:
            _message(notification).send()
        except BaseException as exc:  # noqa: BLE001 - raised again below, after the bookkeeping
            failure = exc
        else:
            sent.append(notification.pk)
    mine = Notification.objects.filter(email_claimed_at=claimed_at)
    if sent:
        mine.filter(pk__in=sent).update(email_sent_at=timezone.now())
    if failure is not None:
        failed, untried = notifications[len(sent)], notifications[len(sent) + 1:]
        if untried:
            mine.filter(pk__in=[n.pk for n in untried]).update(email_claimed_at=None)
        _give_back_failed(mine.filter(pk=failed.pk), failed, failure)
        raise failure


def _give_back_failed(mine, notification: Notification, failure: BaseException) -> None:
    """Give the claim on an email that failed back for its next try after a backoff, or give it up.
    A worker being stopped (not an ``Exception``) is no attempt: the email is given back as it was."""
    if not isinstance(failure, Exception):
        mine.update(email_claimed_at=None)
        return
    step = backoff.after_failure(previous_attempts=notification.email_attempts, failure=failure, now=timezone.now())
    mine.update(email_claimed_at=None, email_attempts=step.attempts, email_retry_at=step.retry_at,
                email_failed_at=step.given_up_at)
    if step.given_up_at is not None:
        logger.error("gave up on notification email %s after %s failed attempts: %r",
                     notification.pk, step.attempts, failure)


@shared_task(acks_late=True, task_reject_on_worker_lost=True,
             soft_time_limit=settings.CELERY_EMAIL_TASK_SOFT_TIME_LIMIT,
             time_limit=settings.CELERY_EMAIL_TASK_TIME_LIMIT)
def send_notification_email(notification_id: int) -> None:
    """Send one notification's email (see the module docstring for the once-only rule)."""
    _send_claimed([notification_id])


# At most this many emails per ``send_notification_emails`` task (both parties of one transition):
# its time limits are this many times one email's, and stay well within ``CLAIM_LEASE``.
EMAILS_PER_TASK = 2


def require_lease_beyond_time_limits(lease: dt.timedelta, email_time_limit_seconds: int) -> None:
    """A claim must outlive the longest task holding it (the pair's hard time limit): otherwise
    the sweep would send an email again while its task is still sending it."""
    if lease.total_seconds() <= email_time_limit_seconds * EMAILS_PER_TASK:
        raise ImproperlyConfigured(
            f"notifications.tasks.CLAIM_LEASE ({lease}) must exceed {EMAILS_PER_TASK} × "
            f"CELERY_EMAIL_TASK_TIME_LIMIT ({email_time_limit_seconds} s)")


require_lease_beyond_time_limits(CLAIM_LEASE, settings.CELERY_EMAIL_TASK_TIME_LIMIT)


@shared_task(acks_late=True, task_reject_on_worker_lost=True,
             soft_time_limit=settings.CELERY_EMAIL_TASK_SOFT_TIME_LIMIT * EMAILS_PER_TASK,
             time_limit=settings.CELERY_EMAIL_TASK_TIME_LIMIT * EMAILS_PER_TASK)
def send_notification_emails(notification_ids: list[int]) -> None:
    """Send the emails of one event's notifications together (at most ``EMAILS_PER_TASK``): one
    claim and one mark for all of them, each still sent once (the module docstring)."""
    if len(notification_ids) > EMAILS_PER_TASK:
        raise ValueError(f"at most {EMAILS_PER_TASK} emails per task, not {len(notification_ids)}")
    _send_claimed(notification_ids)


# How many due emails one run of the sweep tries, lowest id first.
SWEEP_BATCH = 500


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def send_pending_emails() -> int:
    """Safety net: emails whose task was never enqueued or never finished (broker down, worker
    killed, SMTP server down) are sent here; ``send_notification_email`` still sends each once.
    Emails waiting for their next try, or given up, are not taken: they cannot fill the batch."""
    now = timezone.now()
    cutoff = now - dt.timedelta(minutes=2)
    ids = list(Notification.objects.filter(_claimable(now), email_sent_at__isnull=True, created_at__lte=cutoff)
               .exclude(email="").order_by("pk").values_list("pk", flat=True)[:SWEEP_BATCH])
    sent = 0
    for pk in ids:
        try:
            send_notification_email(pk)
        except Exception:  # noqa: BLE001 - one failing address or a mail server down: tried again after a backoff
            logger.exception("could not send notification email %s; retried after a backoff, or given up", pk)
        else:
            sent += 1
    return sent
