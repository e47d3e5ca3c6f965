"""A status inquiry that keeps failing is not retried for ever: after a day without an answer from
Faspay about a bill, polling stops, the audit log and finance are told once, and finance ask again
from the admin when Faspay answers again (``payments.polling.INQUIRY_GIVE_UP_AFTER``).

Before, a failed inquiry was rescheduled on the polling schedule with no end: hourly, for ever, and
nobody was told that INTRASA could not learn what happened to the bill."""
import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from payments.models import Bill
from payments.polling import INQUIRY_GIVE_UP_AFTER
from tests.disputes.conftest import officer  # noqa: F401 - staff who decide disputes, not finance

from .steps import poll_now, refresh, start

pytestmark = pytest.mark.django_db(transaction=True)

GIVEN_UP, RESUMED = "payment.inquiry_given_up", "payment.inquiry_resumed"


def audit(bill, action):
    return AuditEntry.objects.filter(action=action, object_id=str(bill.pk))


def failing_for(bill, age: dt.timedelta) -> None:
    """Faspay has not answered about ``bill`` for ``age``."""
    Bill.objects.filter(pk=bill.pk).update(inquiry_failing_since=timezone.now() - age)


def test_a_failing_inquiry_is_asked_again_for_a_day_then_finance_are_told_once(faspay, accepted, buyer,
                                                                               finance_officer):
    bill = start(accepted, buyer, "702")
    faspay("fault", kind="http_500", scope="debit.inquiry", count=1000)
    poll_now()
    refresh(bill)
    assert bill.inquiry_failing_since is not None and bill.next_check_at is not None  # asked again later
    assert not audit(bill, GIVEN_UP).exists()

    failing_for(bill, INQUIRY_GIVE_UP_AFTER - dt.timedelta(minutes=5))
    poll_now()
    refresh(bill)
    assert bill.next_check_at is not None and not audit(bill, GIVEN_UP).exists()

    failing_for(bill, INQUIRY_GIVE_UP_AFTER)
    mail.outbox.clear()
    poll_now()
    refresh(bill)
    assert bill.next_check_at is None  # polling stopped
    assert audit(bill, GIVEN_UP).count() == 1
    [alert] = [m for m in mail.outbox if bill.bill_no in m.subject]
    assert finance_officer.email in alert.to
    assert accepted.reference in alert.body and "WIB" in alert.body

    checks = bill.checks
    poll_now()
    poll_now()
    refresh(bill)
    assert bill.checks == checks  # not asked again
    assert audit(bill, GIVEN_UP).count() == 1 and len([m for m in mail.outbox if bill.bill_no in m.subject]) == 1


def test_an_answer_ends_the_run_of_failures(faspay, accepted, buyer):
    bill = start(accepted, buyer, "702")
    faspay("fault", kind="http_500", scope="debit.inquiry", count=1)
    poll_now()
    refresh(bill)
    assert bill.inquiry_failing_since is not None
    poll_now()  # Faspay answers "not paid yet"
    refresh(bill)
    assert bill.inquiry_failing_since is None and bill.next_check_at is not None


def test_finance_ask_faspay_again_from_the_admin_queue(faspay, accepted, buyer, client, finance_officer):
    bill = start(accepted, buyer, "702")
    faspay("fault", kind="http_500", scope="debit.inquiry", count=1)
    poll_now()
    failing_for(bill, INQUIRY_GIVE_UP_AFTER + dt.timedelta(hours=3))
    Bill.objects.filter(pk=bill.pk).update(next_check_at=timezone.now())
    faspay("fault", kind="http_500", scope="debit.inquiry", count=1)
    poll_now()
    refresh(bill)
    assert bill.next_check_at is None

    client.force_login(finance_officer)
    queue = client.get(reverse("admin:payments_bill_changelist") + "?inquiry=given_up")
    url = reverse("admin:payments_bill_resume_inquiry", args=[bill.pk])
    assert queue.status_code == 200 and bill.bill_no in queue.content.decode() and url in queue.content.decode()
    page = client.get(url)
    assert page.status_code == 200 and accepted.reference in page.content.decode()

    refused = client.post(url, {"reason": "   "})
    assert refused.status_code == 200 and not audit(bill, RESUMED).exists()

    done = client.post(url, {"reason": "Faspay support: inquiry is back since 09:00"}, follow=True)
    assert done.redirect_chain
    resumed = audit(bill, RESUMED).get()
    assert resumed.actor == finance_officer and "inquiry is back" in resumed.reason
    refresh(bill)
    assert bill.inquiry_failing_since is None and bill.next_check_at is not None

    again = client.post(url, {"reason": "twice"})  # nothing to resume now: refused, nothing changes
    assert again.status_code == 200 and audit(bill, RESUMED).count() == 1

    poll_now()  # Faspay answers again
    refresh(bill)
    assert bill.inquiry_failing_since is None and bill.status == Bill.Status.PENDING


def test_only_finance_ask_faspay_again(faspay, accepted, buyer, client, officer):
    bill = start(accepted, buyer, "702")
    Bill.objects.filter(pk=bill.pk).update(inquiry_failing_since=timezone.now() - INQUIRY_GIVE_UP_AFTER,
                                           next_check_at=None)
    client.force_login(officer)
    response = client.post(reverse("admin:payments_bill_resume_inquiry", args=[bill.pk]), {"reason": "x"})
    assert response.status_code == 403
    refresh(bill)
    assert bill.next_check_at is None and not audit(bill, RESUMED).exists()
