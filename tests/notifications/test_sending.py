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

from notifications import backoff, tasks
from notifications.models import Notification


def outbox_row(buyer, key="sending") -> Notification:
    return Notification.objects.create(event_key=key, kind="confirmed_buyer", recipient=buyer, email=buyer.email,
                                       subject="S", body="B", language="id")


def _backoff_passes():
    """Time goes by until every email waiting for a retry is due again."""
    Notification.objects.filter(email_retry_at__isnull=False).update(email_retry_at=timezone.now())


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
    assert notification.email_attempts == 1 and notification.email_retry_at > timezone.now()
    monkeypatch.setattr(locmem.EmailBackend, "send_messages", original)
    Notification.objects.filter(pk=notification.pk).update(created_at=timezone.now() - dt.timedelta(minutes=5))
    assert tasks.send_pending_emails() == 0  # not before its backoff
    _backoff_passes()
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
    assert (first.email_attempts, second.email_attempts) == (0, 1)
    monkeypatch.setattr(locmem.EmailBackend, "send_messages", original)
    Notification.objects.update(created_at=timezone.now() - dt.timedelta(minutes=5))
    _backoff_passes()
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


# --- an email that keeps failing backs off, then is given up on ------------------------------------

def _sweepable():
    Notification.objects.update(created_at=timezone.now() - dt.timedelta(minutes=5))


def count_attempts(monkeypatch, failure=None, failing="refused") -> list:
    """Every address the mail server is asked to deliver to; ``failure`` (if given) is raised for
    the addresses starting with ``failing``, the others are delivered."""
    asked: list = []
    original = locmem.EmailBackend.send_messages

    def server(self, messages):
        asked.append(messages[0].to[0])
        if failure is not None and messages[0].to[0].startswith(failing):
            raise failure
        return original(self, messages)

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", server)
    return asked


@pytest.mark.django_db(transaction=True)
def test_refused_emails_back_off_and_cannot_starve_a_newer_one(buyer, seller, monkeypatch):
    """A full batch of addresses the server refuses, all older than a good email whose own task was
    lost: the sweep tries them once, then leaves them for their backoff and sends the good one."""
    monkeypatch.setattr(tasks, "SWEEP_BATCH", 3)
    refused = [Notification.objects.create(event_key=f"refused-{n}", kind="confirmed_buyer", recipient=buyer,
                                           email=f"refused{n}@example.invalid", subject="S", body="B")
               for n in range(3)]
    good = outbox_row(seller, "good")
    assert good.pk > max(n.pk for n in refused)
    _sweepable()
    asked = count_attempts(monkeypatch, smtplib.SMTPRecipientsRefused({"x": (550, b"no such user")}))
    assert tasks.send_pending_emails() == 0
    assert sorted(asked) == sorted(n.email for n in refused)
    asked.clear()
    assert tasks.send_pending_emails() == 1
    assert asked == [seller.email]  # the refused ones wait for their backoff
    good.refresh_from_db()
    assert good.email_sent_at is not None and [m.to for m in mail.outbox] == [[seller.email]]
    now = timezone.now()
    for notification in refused:
        notification.refresh_from_db()
        assert notification.email_attempts == 1 and notification.email_claimed_at is None
        assert now + dt.timedelta(minutes=4) < notification.email_retry_at <= now + dt.timedelta(minutes=5)


@pytest.mark.django_db(transaction=True)
def test_a_refused_address_is_given_up_after_a_few_tries_and_never_sent_again(buyer, monkeypatch, caplog):
    notification = Notification.objects.create(event_key="refused", kind="confirmed_buyer", recipient=buyer,
                                               email="refused@example.invalid", subject="S", body="B")
    _sweepable()
    asked = count_attempts(monkeypatch, smtplib.SMTPRecipientsRefused({"x": (550, b"no such user")}))
    for _try in range(backoff.MAX_ATTEMPTS_REFUSED):
        tasks.send_pending_emails()
        _backoff_passes()
    assert len(asked) == backoff.MAX_ATTEMPTS_REFUSED
    notification.refresh_from_db()
    assert notification.email_failed_at is not None and notification.email_sent_at is None
    assert notification.email_attempts == backoff.MAX_ATTEMPTS_REFUSED and notification.email_claimed_at is None
    assert [r.levelname for r in caplog.records if r.getMessage().startswith("gave up")] == ["ERROR"]
    # Given up: neither the sweep nor a task redelivered by the broker sends it again.
    Notification.objects.update(email_retry_at=None)
    assert tasks.send_pending_emails() == 0
    tasks.send_notification_email(notification.pk)
    assert len(asked) == backoff.MAX_ATTEMPTS_REFUSED and mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_a_mail_server_that_keeps_failing_is_tried_less_often_for_about_a_day_and_a_half(buyer, monkeypatch):
    notification = outbox_row(buyer)
    _sweepable()
    asked = count_attempts(monkeypatch, smtplib.SMTPServerDisconnected("the mail server went away"), failing="")
    waits = []
    for _try in range(backoff.MAX_ATTEMPTS):
        before = timezone.now()
        assert tasks.send_pending_emails() == 0
        assert tasks.send_pending_emails() == 0  # not tried again before its time
        notification.refresh_from_db()
        if notification.email_retry_at is not None:
            waits.append(notification.email_retry_at - before)
        _backoff_passes()
    assert len(asked) == backoff.MAX_ATTEMPTS
    assert notification.email_failed_at is not None and notification.email_attempts == backoff.MAX_ATTEMPTS
    minutes = [round(wait.total_seconds() / 60) for wait in waits]
    assert minutes == [5, 10, 20, 40, 80, 160, 320, 360, 360, 360, 360]
    assert dt.timedelta(days=1.25) < sum(waits, dt.timedelta()) < dt.timedelta(days=1.75)


def test_only_a_refusal_of_this_email_gives_up_early():
    refused = backoff.is_refused
    assert refused(smtplib.SMTPRecipientsRefused({"a@example.invalid": (550, b"no such user")}))
    assert refused(smtplib.SMTPDataError(554, b"message rejected"))
    assert not refused(smtplib.SMTPRecipientsRefused({"a@example.invalid": (450, b"mailbox busy")}))
    assert not refused(smtplib.SMTPRecipientsRefused({"a@example.invalid": (550, b"no"),
                                                      "b@example.invalid": (451, b"later")}))
    # Our sender, our credentials, the server itself: every email's problem, not this one's.
    assert not refused(smtplib.SMTPSenderRefused(553, b"sender not allowed", "noreply@example.invalid"))
    assert not refused(smtplib.SMTPAuthenticationError(535, b"bad credentials"))
    assert not refused(smtplib.SMTPServerDisconnected("gone"))
    assert not refused(TimeoutError())


@pytest.mark.django_db
def test_staff_see_which_emails_failed_and_which_were_given_up(client, customer_service_officer, buyer, seller,
                                                               in_english):
    from django.contrib.auth.models import Permission
    from django.urls import reverse

    customer_service_officer.user_permissions.add(Permission.objects.get(codename="view_notification"))
    client.force_login(customer_service_officer)

    given_up, retrying, sent = outbox_row(buyer, "given-up"), outbox_row(seller, "retrying"), outbox_row(buyer, "sent")
    now = timezone.now()
    Notification.objects.filter(pk=given_up.pk).update(email_attempts=3, email_failed_at=now)
    Notification.objects.filter(pk=retrying.pk).update(email_attempts=2, email_retry_at=now)
    Notification.objects.filter(pk=sent.pk).update(email_sent_at=now)
    changelist = reverse("admin:notifications_notification_changelist")

    def listed(query):
        page = client.get(changelist + query)
        assert page.status_code == 200
        return {n.event_key for n in page.context["cl"].result_list}

    assert listed("?email_state=given_up") == {"given-up"}
    assert listed("?email_state=retrying") == {"retrying"}
    assert listed("?email_state=sent") == {"sent"}
    page = client.get(changelist).content.decode()
    assert "Failed email attempts" in page and "Email given up at" in page and "Given up" in page
    detail = client.get(reverse("admin:notifications_notification_change", args=[given_up.pk]))
    assert "Email given up at" in detail.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_worker_stopped_mid_send_is_no_failed_attempt(buyer, monkeypatch):
    notification = outbox_row(buyer)

    def stopped(self, messages):
        raise SystemExit("worker shutting down")

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", stopped)
    with pytest.raises(SystemExit):
        tasks.send_notification_email(notification.pk)
    notification.refresh_from_db()
    assert notification.email_claimed_at is None and notification.email_attempts == 0
    assert notification.email_retry_at is None and notification.email_failed_at is None


@pytest.mark.django_db
def test_staff_try_given_up_emails_again_and_the_sweep_sends_them(client, customer_service_officer, buyer, seller,
                                                                  in_english):
    """After a mail server outage longer than the backoff's day and a half, staff ask for the given-up
    emails to be tried again; one sent, or still being tried, is left as it is. Audited per email."""
    from django.contrib.auth.models import Permission
    from django.urls import reverse

    from audit.models import AuditEntry

    customer_service_officer.user_permissions.add(Permission.objects.get(codename="view_notification"))
    client.force_login(customer_service_officer)
    given_up, retrying = outbox_row(buyer, "given-up"), outbox_row(seller, "retrying")
    long_ago = timezone.now() - dt.timedelta(days=2)
    Notification.objects.filter(pk__in=[given_up.pk, retrying.pk]).update(created_at=long_ago)
    Notification.objects.filter(pk=given_up.pk).update(email_attempts=12, email_failed_at=timezone.now())
    Notification.objects.filter(pk=retrying.pk).update(email_attempts=2,
                                                       email_retry_at=timezone.now() + dt.timedelta(hours=1))

    response = client.post(reverse("admin:notifications_notification_changelist"),
                           {"action": "try_again", "_selected_action": [given_up.pk, retrying.pk]}, follow=True)

    assert "1 given-up email will be tried again within five minutes." in response.content.decode()
    given_up.refresh_from_db()
    assert (given_up.email_failed_at, given_up.email_attempts, given_up.email_retry_at) == (None, 0, None)
    assert Notification.objects.get(pk=retrying.pk).email_attempts == 2  # not given up: left as it is
    entry = AuditEntry.objects.get(action="notification.email_try_again")
    assert entry.actor == customer_service_officer and entry.data["failed_attempts"] == 12
    mail.outbox.clear()
    assert tasks.send_pending_emails() == 1
    assert [message.to for message in mail.outbox] == [[given_up.email]]


@pytest.mark.django_db
def test_the_sweep_reads_the_emails_to_send_through_their_own_index():
    """The notifications table keeps every email sent for two years; the sweep, every 5 minutes, must
    not read them all to find the few still to send."""
    now = timezone.now()
    sweep = (Notification.objects.filter(tasks._claimable(now), email_sent_at__isnull=True,
                                         created_at__lte=now).exclude(email="").order_by("pk")
             .values_list("pk", flat=True)[:tasks.SWEEP_BATCH])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = sweep.explain()
    assert "notification_email_to_send" in plan, plan
