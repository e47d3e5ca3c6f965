"""The SMTP conversation happens after commit, outside any database transaction and holding no
row lock, bounded by EMAIL_TIMEOUT and the task's time limits (DESIGN.md §3)."""
import datetime as dt
import smtplib
import threading

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail.backends import locmem
from django.db import connection, connections
from django.utils import timezone

from notifications import tasks
from notifications.models import Notification


def outbox_row(buyer, key="sending") -> Notification:
    return Notification.objects.create(event_key=key, kind="confirmed_buyer", recipient=buyer, email=buyer.email,
                                       subject="S", body="B", language="id")


def row_is_locked_elsewhere(pk: int) -> bool:
    """Whether another connection holds a lock on the row (asked from a second connection)."""
    result = {}

    def probe():
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("BEGIN")
                try:
                    cursor.execute("SELECT id FROM notifications_notification WHERE id = %s FOR UPDATE NOWAIT", [pk])
                    result["locked"] = False
                except Exception:  # noqa: BLE001 - psycopg's LockNotAvailable
                    result["locked"] = True
                cursor.execute("ROLLBACK")
        finally:
            other.close()

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    return result["locked"]


@pytest.mark.django_db(transaction=True)
def test_smtp_runs_outside_any_transaction_and_lock(buyer, monkeypatch):
    notification = outbox_row(buyer)
    seen = []
    original = locmem.EmailBackend.send_messages

    def smtp(self, messages):
        seen.append({"in_transaction": connection.in_atomic_block, "locked": row_is_locked_elsewhere(notification.pk)})
        return original(self, messages)

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", smtp)
    tasks.send_notification_email(notification.pk)
    assert seen == [{"in_transaction": False, "locked": False}]
    notification.refresh_from_db()
    assert notification.email_sent_at is not None and len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_failed_send_gives_the_email_back_to_the_sweep(buyer, monkeypatch):
    notification = outbox_row(buyer)
    original = locmem.EmailBackend.send_messages

    def down(self, messages):
        raise smtplib.SMTPServerDisconnected("the mail server went away")

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", down)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        tasks.send_notification_email(notification.pk)
    notification.refresh_from_db()
    assert notification.email_sent_at is None and notification.email_claimed_at is None
    monkeypatch.setattr(locmem.EmailBackend, "send_messages", original)
    Notification.objects.filter(pk=notification.pk).update(created_at=timezone.now() - dt.timedelta(minutes=5))
    assert tasks.send_pending_emails() == 1
    assert len(mail.outbox) == 1


def refuse_mail_to(monkeypatch, address):
    """The mail server refuses ``address`` (550); other recipients are delivered. Returns the
    backend's own ``send_messages``, to put back."""
    original = locmem.EmailBackend.send_messages

    def refusing(self, messages):
        if messages[0].to == [address]:
            raise smtplib.SMTPRecipientsRefused({address: (550, b"no")})
        return original(self, messages)

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", refusing)
    return original


@pytest.mark.django_db(transaction=True)
def test_the_sweep_goes_on_past_an_email_that_fails(buyer, seller, monkeypatch):
    first, second = outbox_row(buyer, "first"), outbox_row(seller, "second")
    Notification.objects.update(created_at=timezone.now() - dt.timedelta(minutes=5))
    refuse_mail_to(monkeypatch, buyer.email)
    assert tasks.send_pending_emails() == 1
    assert [m.to for m in mail.outbox] == [[seller.email]]
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.email_sent_at is None and second.email_sent_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_claim_in_progress_is_left_alone_until_it_expires(buyer):
    notification = outbox_row(buyer)
    Notification.objects.filter(pk=notification.pk).update(
        email_claimed_at=timezone.now(), created_at=timezone.now() - dt.timedelta(minutes=5))
    tasks.send_notification_email(notification.pk)  # another worker is sending it right now
    assert tasks.send_pending_emails() == 0 and mail.outbox == []
    # That worker died after claiming: once the lease is over, the sweep sends it.
    Notification.objects.filter(pk=notification.pk).update(
        email_claimed_at=timezone.now() - tasks.CLAIM_LEASE - dt.timedelta(seconds=1))
    assert tasks.send_pending_emails() == 1 and len(mail.outbox) == 1


def test_smtp_and_the_tasks_have_time_limits():
    from django.core.mail import get_connection

    from intrasa.celery import app

    assert settings.EMAIL_TIMEOUT and get_connection("django.core.mail.backends.smtp.EmailBackend").timeout == \
        settings.EMAIL_TIMEOUT
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    assert 0 < app.conf.task_soft_time_limit < app.conf.task_time_limit < visibility
    task = app.tasks["notifications.tasks.send_notification_email"]
    assert 0 < task.soft_time_limit < task.time_limit <= app.conf.task_time_limit
    assert tasks.CLAIM_LEASE.total_seconds() > task.time_limit


@pytest.mark.django_db(transaction=True)
def test_both_parties_emails_travel_in_one_task_each_sent_once(buyer, seller, django_assert_num_queries):
    first, second = outbox_row(buyer, "first"), outbox_row(seller, "second")
    with django_assert_num_queries(2):  # one claim for both, one mark for both
        tasks.send_notification_emails([first.pk, second.pk])
    assert sorted(m.to[0] for m in mail.outbox) == sorted([buyer.email, seller.email])
    assert Notification.objects.filter(email_sent_at__isnull=False).count() == 2
    tasks.send_notification_emails([first.pk, second.pk])  # Redis delivered the task again
    tasks.send_notification_email(second.pk)
    assert len(mail.outbox) == 2


@pytest.mark.django_db(transaction=True)
def test_a_batch_failing_on_its_second_email_keeps_the_first_sent_and_gives_the_second_back(buyer, seller,
                                                                                           monkeypatch):
    first, second = outbox_row(buyer, "first"), outbox_row(seller, "second")
    original = refuse_mail_to(monkeypatch, seller.email)
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        tasks.send_notification_emails([first.pk, second.pk])
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.email_sent_at is not None
    assert second.email_sent_at is None and second.email_claimed_at is None  # the sweep's again
    monkeypatch.setattr(locmem.EmailBackend, "send_messages", original)
    Notification.objects.update(created_at=timezone.now() - dt.timedelta(minutes=5))
    assert tasks.send_pending_emails() == 1
    assert [m.to for m in mail.outbox] == [[buyer.email], [seller.email]]


def test_a_batch_task_has_time_limits_within_the_claim_lease():
    from intrasa.celery import app

    task = app.tasks["notifications.tasks.send_notification_emails"]
    assert 0 < task.soft_time_limit < task.time_limit <= app.conf.task_time_limit
    assert tasks.CLAIM_LEASE.total_seconds() > task.time_limit
    with pytest.raises(ValueError):
        tasks.send_notification_emails(list(range(tasks.EMAILS_PER_TASK + 1)))


def _tasks_enqueued(monkeypatch) -> list:
    enqueued: list = []
    monkeypatch.setattr(tasks.send_notification_email, "delay", lambda pk: enqueued.append([pk]))
    monkeypatch.setattr(tasks.send_notification_emails, "delay", lambda pks: enqueued.append(list(pks)))
    return enqueued


@pytest.mark.django_db
def test_unrelated_peoples_emails_never_share_a_task(buyer, seller, monkeypatch, django_capture_on_commit_callbacks):
    """A batch of notices (payout answers to different sellers): one refused address or a worker's
    death must not hold back or re-send another person's email."""
    from notifications.services import notify_many

    enqueued = _tasks_enqueued(monkeypatch)
    notices = [{"event_key": f"disbursement:{n}:succeeded", "kind": "confirmed_buyer", "recipient": person,
                "context": {"reference": "INT-1", "title": "T", "seller": "S", "buyer": "B", "amount": "Rp 1"}}
               for n, person in enumerate((buyer, seller))]
    with django_capture_on_commit_callbacks(execute=True):
        notify_many(notices)
    assert sorted(len(batch) for batch in enqueued) == [1, 1]


@pytest.mark.django_db
def test_both_parties_of_one_transition_share_a_task(buyer, seller, monkeypatch, django_capture_on_commit_callbacks):
    from tests import scenarios
    from transactions import services
    from transactions.models import Status

    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    enqueued = _tasks_enqueued(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        services.transaction_confirm(escrow_transaction=txn, buyer=buyer)
    confirmed = set(Notification.objects.filter(event_key__startswith=f"txn:{txn.reference}:confirmed_")
                    .values_list("pk", flat=True))
    assert len(confirmed) == 2 and [set(batch) for batch in enqueued if set(batch) & confirmed] == [confirmed]


def test_the_claim_lease_must_outlast_the_pair_task_s_hard_time_limit():
    from django.core.exceptions import ImproperlyConfigured

    limit = settings.CELERY_EMAIL_TASK_TIME_LIMIT
    tasks.require_lease_beyond_time_limits(tasks.CLAIM_LEASE, limit)  # as configured: imported fine
    with pytest.raises(ImproperlyConfigured):
        tasks.require_lease_beyond_time_limits(dt.timedelta(seconds=limit * tasks.EMAILS_PER_TASK), limit)
