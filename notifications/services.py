"""Creating notifications. Call inside the service's atomic block; the email goes after commit."""
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from .messages import MESSAGES, message_params
from .models import Notification

logger = logging.getLogger(__name__)


def notify(
    *, event_key: str, kind: str, context: dict, recipient=None, email: str = "", link: str = "",
    language: str = "",
) -> Notification:
    """Record one notification for one event (idempotent on ``event_key``) and email it after commit.

    ``language`` is for an email to an address without its account as recipient (no in-app copy),
    written in the language of the person it is meant for."""
    if not language:
        language = recipient.preferred_language if recipient is not None else settings.LANGUAGE_CODE
    subject_template, body_template = MESSAGES[kind]
    with translation.override(language):
        subject = str(subject_template).format(**context)
        body = str(body_template).format(**context)
    notification = Notification(
        event_key=event_key, kind=kind, recipient=recipient,
        email=email or (recipient.email if recipient else ""), language=language,
        subject=subject[:200], body=body, params=message_params(context), link=link,
    )
    if not _insert_unless_recorded(notification):
        return Notification.objects.get(event_key=event_key)
    transaction.on_commit(lambda: _enqueue_email(notification.pk))
    return notification


def _insert_unless_recorded(notification: Notification) -> bool:
    """INSERT the row unless its event is recorded already (by anyone, even a concurrent writer):
    one statement, ``INSERT … ON CONFLICT (event_key) DO NOTHING``, instead of a look-up, a
    savepoint and an INSERT. ``False`` when the event was recorded already."""
    return bool(_insert_all_unless_recorded([notification]))


def _insert_all_unless_recorded(notifications: list[Notification]) -> list[Notification]:
    """``_insert_unless_recorded`` for several rows in one statement; the rows inserted (with
    their ids), in order — an event recorded already, by anyone, is left out."""
    from django.db import connection

    if connection.vendor != "postgresql":
        inserted = []
        for notification in notifications:
            try:
                with transaction.atomic():
                    notification.save(force_insert=True)
            except IntegrityError:
                continue
            inserted.append(notification)
        return inserted
    sql, params = notifications_insert_sql(notifications)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return _bind_inserted(notifications, cursor.fetchall())


def notifications_insert_sql(notifications: list[Notification]) -> tuple[str, list]:
    """PostgreSQL: the one ``INSERT … ON CONFLICT (event_key) DO NOTHING RETURNING id, event_key``
    of ``notifications``; a caller may run it inside a larger statement (a CTE that also writes the
    change they announce: ``transactions.writes``) and hand what it returned to
    ``notifications_inserted``."""
    from django.db import connection

    fields = [field for field in Notification._meta.concrete_fields if not field.primary_key]
    values = [field.get_db_prep_save(field.pre_save(notification, add=True), connection)
              for notification in notifications for field in fields]
    columns = ", ".join(connection.ops.quote_name(str(field.column)) for field in fields)
    table = connection.ops.quote_name(Notification._meta.db_table)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    return (f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(notifications))} "
            f"ON CONFLICT (event_key) DO NOTHING RETURNING id, event_key", values)


def _bind_inserted(notifications: list[Notification], returned) -> list[Notification]:
    from django.db import connection

    ids = dict((key, pk) for pk, key in returned)
    inserted = []
    for notification in notifications:
        if notification.event_key in ids:
            notification.pk = ids[notification.event_key]
            notification._state.adding = False
            notification._state.db = connection.alias
            inserted.append(notification)
    return inserted


def notifications_inserted(notifications: list[Notification], returned, *, one_event: bool = False
                           ) -> list[Notification]:
    """After ``notifications_insert_sql`` ran in the caller's statement: the rows it inserted get
    their ids (``returned``: its ``(id, event_key)`` rows) and their emails go after commit, as
    ``notify_many``'s do (``one_event``: the same). Returns the rows inserted."""
    inserted = _bind_inserted(notifications, returned)
    ids = [notification.pk for notification in inserted]
    if ids:
        transaction.on_commit(lambda: _enqueue_emails(ids, one_event=one_event))
    return inserted


def notifications_build(notices: list[dict]) -> list[Notification]:
    """The rows of ``notices`` (``notify``'s keyword arguments each), written in each reader's
    language, not saved; a key given twice is written once."""
    rows: dict[str, Notification] = {}
    for notice in notices:
        if notice["event_key"] in rows:
            continue
        recipient = notice.get("recipient")
        language = notice.get("language") or (recipient.preferred_language if recipient is not None
                                              else settings.LANGUAGE_CODE)
        subject_template, body_template = MESSAGES[notice["kind"]]
        with translation.override(language):
            subject = str(subject_template).format(**notice["context"])
            body = str(body_template).format(**notice["context"])
        rows[notice["event_key"]] = Notification(
            event_key=notice["event_key"], kind=notice["kind"], recipient=recipient,
            email=notice.get("email") or (recipient.email if recipient is not None else ""), language=language,
            subject=subject[:200], body=body, params=message_params(notice["context"]), link=notice.get("link", ""))
    return list(rows.values())


def notify_many(notices: list[dict], *, one_event: bool = False) -> None:
    """``notify`` for several events at once (a batch of payout answers, both parties of one
    transition), in one INSERT whatever their number (a key recorded already, even by a
    concurrent writer, is skipped), with the emails of the rows inserted after commit. Each
    notice holds ``notify``'s keyword arguments.

    ``one_event``: the notices announce one event of one transaction (both parties of a
    transition); only then do their emails share a task. Unrelated people's emails never do: a
    refused address or a slow server for one must not hold back or re-send another's."""
    rows = notifications_build(notices)
    if not rows:
        return
    ids = [notification.pk for notification in _insert_all_unless_recorded(rows)]
    if ids:
        transaction.on_commit(lambda: _enqueue_emails(ids, one_event=one_event))


def _enqueue_email(notification_id: int) -> None:
    """Hand the email to Celery; if the broker is down the row stays unsent and the periodic
    ``send_pending_emails`` job picks it up, so the person's request never fails for it."""
    from .tasks import send_notification_email

    try:
        send_notification_email.delay(notification_id)
    except Exception:  # noqa: BLE001 - any broker failure; the outbox row is the retry
        logger.exception("could not enqueue notification %s; the periodic job will send it", notification_id)


def _enqueue_emails(notification_ids: list[int], *, one_event: bool) -> None:
    """``_enqueue_email`` for each notification; those of one event (``one_event``) go
    ``EMAILS_PER_TASK`` to a task: the worker claims them in one statement and marks them sent in
    another (both parties of a transition cost one task, not two)."""
    from .tasks import EMAILS_PER_TASK, send_notification_emails

    if not one_event:
        for notification_id in notification_ids:
            _enqueue_email(notification_id)
        return
    for start in range(0, len(notification_ids), EMAILS_PER_TASK):
        batch = notification_ids[start:start + EMAILS_PER_TASK]
        if len(batch) == 1:
            _enqueue_email(batch[0])
            continue
        try:
            send_notification_emails.delay(batch)
        except Exception:  # noqa: BLE001 - any broker failure; the outbox rows are the retry
            logger.exception("could not enqueue notifications %s; the periodic job will send them", batch)


def notification_mark_read(*, user, notification_ids=None) -> int:
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=notification_ids)
    return qs.update(read_at=timezone.now())


def notification_emails_try_again(*, notification_ids, actor) -> int:
    """Staff's "try again" on emails given up on (``notifications.backoff``), e.g. after a mail
    server outage longer than the backoff's day and a half: their failures are forgotten and the
    sweep (``notifications.tasks.send_pending_emails``, every 5 minutes) sends them; an email sent,
    or not given up, is left as it is. Audited per email. Returns how many will be tried again."""
    from audit.services import audit_record

    with transaction.atomic():
        given_up = list(Notification.objects.filter(pk__in=list(notification_ids), email_sent_at__isnull=True,
                                                    email_failed_at__isnull=False).order_by("pk"))
        for notification in given_up:
            given_up_at = notification.email_failed_at
            assert given_up_at is not None  # the filter above
            audit_record(actor=actor, action="notification.email_try_again", target=notification,
                         data={"failed_attempts": notification.email_attempts, "given_up_at": given_up_at.isoformat()})
        Notification.objects.filter(pk__in=[n.pk for n in given_up]).update(
            email_failed_at=None, email_attempts=0, email_retry_at=None, email_claimed_at=None)
    return len(given_up)
