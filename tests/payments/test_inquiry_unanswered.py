"""A status inquiry that keeps failing is asked again, and a person hears of it: after a day without
an answer from Faspay about a bill, the audit log and finance are told once per run of failures, and
the bill shows in the admin's queue until Faspay answers (``payments.polling.INQUIRY_ALERT_AFTER``).

Before, a failed inquiry was rescheduled on the polling schedule with no end and nobody was told that
INTRASA could not learn what happened to the payment."""
import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from escrow import tasks
from faspay import results
from payments import services
from payments.channels import Method
from payments.models import Bill
from payments.polling import INQUIRY_ALERT_AFTER

from .steps import poll_now, refresh, start

UNANSWERED = "payment.inquiry_unanswered"
QUEUE = reverse("admin:payments_bill_changelist") + "?inquiry=unanswered"


def reported(bill):
    return AuditEntry.objects.filter(action=UNANSWERED, object_id=str(bill.pk))


def alerts(bill):
    return [m for m in mail.outbox if bill.bill_no in m.subject]


def failing_for(bill, age: dt.timedelta) -> None:
    """Faspay has not answered about ``bill`` for ``age``; it is due for a check."""
    Bill.objects.filter(pk=bill.pk).update(inquiry_failing_since=timezone.now() - age, next_check_at=timezone.now())


@pytest.mark.django_db(transaction=True)
def test_a_failing_inquiry_is_asked_again_and_after_a_day_finance_are_told_once(faspay, accepted, buyer,
                                                                                 finance_officer, client):
    bill = start(accepted, buyer, "702")
    faspay("fault", kind="http_500", scope="debit.inquiry", count=1000)
    poll_now()
    refresh(bill)
    started = bill.inquiry_failing_since
    assert started is not None and bill.next_check_at is not None  # asked again later
    poll_now()
    refresh(bill)
    assert bill.inquiry_failing_since == started  # the run of failures goes on from its first

    failing_for(bill, INQUIRY_ALERT_AFTER - dt.timedelta(minutes=5))
    tasks.poll_pending_bills()
    refresh(bill)
    assert bill.next_check_at is not None and bill.inquiry_reported_at is None and not reported(bill).exists()

    failing_for(bill, INQUIRY_ALERT_AFTER)
    mail.outbox.clear()
    tasks.poll_pending_bills()
    refresh(bill)
    assert bill.inquiry_reported_at is not None and reported(bill).count() == 1
    assert bill.next_check_at is not None  # still asked: INTRASA acts as soon as Faspay answers
    [alert] = alerts(bill)
    assert finance_officer.email in alert.to
    assert accepted.reference in alert.body and "WIB" in alert.body

    client.force_login(finance_officer)
    queue = client.get(QUEUE)
    assert queue.status_code == 200 and [b.pk for b in queue.context["cl"].result_list] == [bill.pk]

    for _ in range(3):  # more failures: no second report in the same run
        poll_now()
    refresh(bill)
    assert reported(bill).count() == 1 and len(alerts(bill)) == 1


@pytest.mark.django_db(transaction=True)
def test_an_answer_ends_the_run_and_takes_the_bill_off_the_queue(faspay, accepted, buyer, finance_officer, client):
    bill = start(accepted, buyer, "702")
    faspay("fault", kind="http_500", scope="debit.inquiry", count=1)
    failing_for(bill, INQUIRY_ALERT_AFTER)
    tasks.poll_pending_bills()
    refresh(bill)
    assert bill.inquiry_reported_at is not None
    poll_now()  # Faspay answers "not paid yet"
    refresh(bill)
    assert (bill.inquiry_failing_since, bill.inquiry_reported_at) == (None, None) and bill.next_check_at is not None
    client.force_login(finance_officer)
    assert list(client.get(QUEUE).context["cl"].result_list) == []


@pytest.mark.django_db
def test_a_late_failure_never_overwrites_an_answer_or_a_notification_since(seller, buyer, accepted):
    """Two inquiries about one bill may run at once (the poller's and one after a notification): the one
    that failed is recorded only if the bill is still as it read it."""
    bill = Bill.objects.create(escrow_transaction=accepted, method=Method.VIRTUAL_ACCOUNT, channel_code="702", bill_no="INQ-RACE-1",
                               amount=100_000, expires_at=timezone.now() + dt.timedelta(days=1), provider_trx_id="T1",
                               next_check_at=timezone.now())
    failing_long = timezone.now() - INQUIRY_ALERT_AFTER * 2
    Bill.objects.filter(pk=bill.pk).update(inquiry_failing_since=failing_long)
    read = Bill.objects.get(pk=bill.pk)  # what the failed inquiry read before it asked
    services.bill_apply_status(bill_id=bill.pk, status=results.PaymentStatus(
        trx_id="T1", bill_no=bill.bill_no, status_code="1", status_description="in process",
        payment_reference="", paid_at=None, paid_amount=None))  # another inquiry's answer
    services.bill_inquiry_failed(bill=read)
    refresh(bill)
    assert bill.inquiry_failing_since is None and bill.inquiry_reported_at is None and not reported(bill).exists()

    Bill.objects.filter(pk=bill.pk).update(inquiry_failing_since=failing_long)
    read = Bill.objects.get(pk=bill.pk)
    asked_now = timezone.now() + dt.timedelta(seconds=1)
    Bill.objects.filter(pk=bill.pk).update(next_check_at=asked_now)  # a notification asks for a check now
    services.bill_inquiry_failed(bill=read)
    refresh(bill)
    assert bill.next_check_at == asked_now and not reported(bill).exists()


@pytest.mark.django_db
def test_a_notification_after_polling_stopped_starts_a_new_run_of_checks(accepted, settings):
    """Polling stops without an answer when a bill is settled otherwise (finance, a booked reversal); a
    notification weeks later asks again, and its failures are a new run: reported after a day, once."""
    from tests.payments.notifications import notification_payload

    long_ago = timezone.now() - dt.timedelta(days=30)
    bill = Bill.objects.create(escrow_transaction=accepted, method=Method.VIRTUAL_ACCOUNT, channel_code="702",
                               bill_no="INQ-NEWRUN-1", amount=100_000, provider_trx_id="T2", creation_attempts=1,
                               expires_at=timezone.now() + dt.timedelta(days=1), status=Bill.Status.PENDING,
                               inquiry_failing_since=long_ago, inquiry_reported_at=long_ago, next_check_at=None)
    services.notification_receive(payload=notification_payload(settings, bill, status="1"))
    refresh(bill)
    assert bill.next_check_at is not None
    assert (bill.inquiry_failing_since, bill.inquiry_reported_at) == (None, None)
