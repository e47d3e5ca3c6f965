"""When the refund's transfer window starts (``refunds.policy``: the transfer window): the seed's 3–7 working
days ("Proses transfer ke metode awal") run once the refund is approved *and* the money has an account in the
buyer's own name to go to (section 4, "kami akan meminta rekening pengganti"). A buyer who names (or corrects)
the account later moves the start: the promised date, the transfer window shown, and the staff chase of a
late transfer all count from it, never from the approval alone.

Dates are stated by hand on the working-day calendar (WIB; November 2026 has no public holiday)."""
import datetime as dt
import re
from types import SimpleNamespace

import pytest
from django.urls import reverse

from accounts.services import payout_destination_add_bank
from disbursements import services as disbursement_services
from disbursements.models import Disbursement, Payout
from escrow import services as escrow_services
from intrasa.wib import WIB
from refunds import policy, selectors, services
from refunds.models import RefundRequest
from refunds.policy import StaffTask
from tests import scenarios
from tests.disbursements.conftest import verified_bank
from tests.disbursements.fakes import answer, fake_sendme  # noqa: F401 - fixture
from tests.disputes.conftest import _staff_in

# The books balance after every test here too, and the clock is set the same way.
from tests.refunds.test_refund_by import _books_balance, now_is  # noqa: F401 - autouse fixture
from tests.workdays.test_overrides import planner  # noqa: F401 - a staff member who may change the calendar
from transactions.models import Status
from workdays.calendar import working_calendar

pytestmark = pytest.mark.django_db

MONDAY = dt.datetime(2026, 11, 2, 10, 0, tzinfo=WIB)
THURSDAY = dt.datetime(2026, 11, 5, 10, 0, tzinfo=WIB)  # D+3
FRIDAY = dt.datetime(2026, 11, 6, 10, 0, tzinfo=WIB)
MINUTE = dt.timedelta(minutes=1)


def public_due(client, txn, at) -> dt.datetime:
    with now_is(at):
        data = client.get(reverse("pages:check_transaction_api", args=[txn.reference])).json()
    assert data["next_due"]["step"] == "refund"
    return dt.datetime.fromisoformat(data["next_due"]["at"])


def approved_on_monday(seller, buyer, finance) -> RefundRequest:
    """The seller cancels a bank-transfer payment on Monday; Finance approve at once."""
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    with now_is(MONDAY):
        escrow_services.escrow_cancel_and_refund(escrow_transaction=txn, actor=seller, reason="Stok habis")
        request = services.refund_approve(refund_request=RefundRequest.objects.get(escrow_transaction=txn),
                                          actor=finance, reason="Dokumen lengkap")
    return request


def approved_without_an_account(seller, buyer, finance) -> RefundRequest:
    """The seller cancels a bank-transfer payment on Monday; Finance approve at once; the buyer has no account."""
    request = approved_on_monday(seller, buyer, finance)
    assert request.payment_family == policy.PaymentFamily.BANK_TRANSFER
    assert policy.transfer_window(request.payment_family) == (3, 7)
    assert request.payout.status == Payout.Status.AWAITING_DESTINATION
    return request


def test_the_rule_counts_from_the_later_of_approval_and_the_account():
    calendar = working_calendar()
    assert policy.transfer_starts_at(approved_at=MONDAY, account_named_at=THURSDAY) == THURSDAY
    assert policy.transfer_starts_at(approved_at=THURSDAY, account_named_at=MONDAY) == THURSDAY
    assert policy.transfer_starts_at(approved_at=MONDAY, account_named_at=None, sent_at=FRIDAY) == FRIDAY
    # Sent on Thursday: an account named on Friday does not move the transfer already under way.
    assert policy.transfer_starts_at(approved_at=MONDAY, account_named_at=FRIDAY, sent_at=THURSDAY) == THURSDAY
    # Thursday 5 + 3 working days = Tuesday 10; + 7 = Monday 16 (the weekend of 7–8 skipped).
    assert policy.transfer_arrives_between(THURSDAY, policy.PaymentFamily.BANK_TRANSFER, calendar) == (
        dt.datetime(2026, 11, 10, 10, 0, tzinfo=WIB), dt.datetime(2026, 11, 16, 10, 0, tzinfo=WIB))
    clock = policy.RefundClock(THURSDAY, (policy.RefundStep.TRANSFER,), policy.PaymentFamily.BANK_TRANSFER)
    assert policy.refund_reaches_buyer_by(clock, now=THURSDAY, calendar=calendar) == \
        dt.datetime(2026, 11, 16, 10, 0, tzinfo=WIB)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("\xa0", " ")


def test_an_account_named_three_days_after_approval_starts_the_window_that_day(client, seller, buyer, finance):
    request = approved_without_an_account(seller, buyer, finance)
    txn = request.escrow_transaction
    with now_is(THURSDAY):
        account = verified_bank(buyer)
        request = services.refund_choose_destination(refund_request=request, buyer=buyer, destination=account)
    request = RefundRequest.objects.select_related("payout", "destination").get(pk=request.pk)
    assert request.payout.status == Payout.Status.IN_PROGRESS
    by = dt.datetime(2026, 11, 16, 10, 0, tzinfo=WIB)  # 7 working days from Thursday 5, not from Monday 2
    wrong = dt.datetime(2026, 11, 11, 10, 0, tzinfo=WIB)  # 7 working days from the approval
    assert public_due(client, txn, THURSDAY + MINUTE) == by
    # The payout queue (its order, the treasury's "overdue", the forecast alert) holds the same promise.
    assert request.payout.due_at == by
    with now_is(THURSDAY + MINUTE):
        assert selectors.refund_request_due_by(request) == by
        assert selectors.refund_transfer_window(request) == (dt.datetime(2026, 11, 10, 10, 0, tzinfo=WIB), by)
    # The refund page: the window and the "reaches you by" date count from Thursday too.
    client.force_login(buyer)
    with now_is(THURSDAY + MINUTE):
        page = client.get(reverse("refunds:detail", args=[txn.reference]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    window = _text(page.split('data-testid="transfer-window"')[1].split("</dd>")[0])
    assert "Tuesday, 10 November 2026 – Monday, 16 November 2026" in window
    assert "Monday, 16 November 2026 10:00 WIB" in _text(page.split('data-testid="refund-by"')[1].split("</dd>")[0])
    # The staff chase: the bank's step until Monday 16, not "late" on Wednesday 11.
    step = services.refund_next_step(request, now=wrong + MINUTE)
    assert step.holder == "bank" and step.due_at == by
    assert services.refund_next_step(request, now=by - MINUTE).holder == "bank"
    late = services.refund_next_step(request, now=by + MINUTE)
    assert late.task == StaffTask.CHASE_LATE_TRANSFER
    assert late.due_at == working_calendar().add_working_hours(by, policy.STAFF_TASK_WORKING_HOURS)


def test_an_account_added_on_the_profile_page_later_starts_the_window_when_it_is_verified(client, seller, buyer,
                                                                                           finance):
    """Not through the refund page: the account added on the profile page, checked by the bank's inquiry, which
    hands it to the waiting refund payout (``disbursements.services.destination_verify``)."""
    request = approved_without_an_account(seller, buyer, finance)
    inquiry = SimpleNamespace(account_inquiry=lambda **kw: SimpleNamespace(
        successful=True, account_invalid=False, account_name=buyer.full_name, response_code="2001600"))
    with now_is(THURSDAY):
        account = payout_destination_add_bank(owner=buyer, bank_code="014", account_number="7001234567",
                                              account_holder_name=buyer.full_name)
        disbursement_services.destination_verify(destination_id=account.pk, client=inquiry)
    request = RefundRequest.objects.select_related("payout").get(pk=request.pk)
    assert request.destination is None and request.payout.status == Payout.Status.IN_PROGRESS
    by = dt.datetime(2026, 11, 16, 10, 0, tzinfo=WIB)
    assert public_due(client, request.escrow_transaction, THURSDAY + MINUTE) == by
    assert request.payout.due_at == by
    assert services.refund_next_step(request, now=dt.datetime(2026, 11, 12, 10, 0, tzinfo=WIB)).holder == "bank"


def test_a_new_account_after_a_transfer_to_a_wrong_one_failed_starts_the_window_again(client, seller, buyer, finance,
                                                                                        fake_sendme):  # noqa: F811
    verified_bank(buyer, number="7000000001")  # the wrong account: the bank says it does not exist
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    with now_is(MONDAY):
        escrow_services.escrow_cancel_and_refund(escrow_transaction=txn, actor=seller, reason="Stok habis")
        request = services.refund_approve(refund_request=RefundRequest.objects.get(escrow_transaction=txn),
                                          actor=finance, reason="Dokumen lengkap")
    part = request.payout.parts.get()
    fake_sendme.answers = [answer("4041811", "Invalid Account")]
    with now_is(MONDAY + dt.timedelta(hours=1)):
        disbursement_services.disbursement_dispatch(disbursement_id=part.pk)
    part.refresh_from_db()
    assert part.status == Disbursement.Status.FAILED
    # Thursday: the buyer names the right account; Finance must still send the refund again.
    with now_is(THURSDAY):
        right = verified_bank(buyer, number="7000000002", default=False)
        request = services.refund_choose_destination(refund_request=request, buyer=buyer, destination=right)
    request = RefundRequest.objects.select_related("payout").get(pk=request.pk)
    assert request.payout.status == Payout.Status.NEEDS_ACTION
    calendar = working_calendar()
    waiting = calendar.add_working_days(calendar.add_working_hours(THURSDAY, policy.STAFF_TASK_WORKING_HOURS), 7)
    assert public_due(client, txn, THURSDAY + MINUTE) == waiting
    # Friday: sent again to the right account (a new reference, a second person approves).
    second = _staff_in("Finance", "finance2@intrasa.co.id", "Feri Keuangan")
    with now_is(FRIDAY):
        approval = disbursement_services.disbursement_retry_request(disbursement=part, actor=finance,
                                                                    destination=right, reason="Rekening benar")
        disbursement_services.disbursement_retry_approve(approval=approval, actor=second)
    request = RefundRequest.objects.select_related("payout").get(pk=request.pk)
    assert request.payout.status == Payout.Status.IN_PROGRESS
    by = dt.datetime(2026, 11, 17, 10, 0, tzinfo=WIB)  # Friday 6 + 7 working days
    assert public_due(client, txn, FRIDAY + MINUTE) == by
    assert request.payout.due_at == by
    assert services.refund_next_step(request, now=dt.datetime(2026, 11, 12, 10, 0, tzinfo=WIB)).holder == "bank"
    assert services.refund_next_step(request, now=by + MINUTE).task == StaffTask.CHASE_LATE_TRANSFER


def test_the_policy_page_says_where_the_window_counts_from(client):
    page = client.get(reverse("pages:refund_policy")).content.decode()  # in English here (``_english``)
    said = _text(page.split('data-testid="transfer-counts-from"')[1].split("</p>")[0])
    assert "counts from the approval, or from the day an account in your own name is known" in said


def test_refund_payouts_made_before_the_moving_promise_are_given_it_by_the_migration(seller, buyer, finance):
    """refunds 0010 gives a refund payout made before ``due_working_days`` its promise counted from when
    the money set off (the policy's latest day), and one still waiting for an account the days to count
    when it sets off; a payout that has them already is left as it is."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("refunds.migrations.0010_refund_account_named_at")
    waiting = approved_without_an_account(seller, buyer, finance)
    sent = approved_without_an_account(seller, buyer, finance)
    current = approved_without_an_account(seller, buyer, finance)
    approval_promise = working_calendar().add_working_days(MONDAY, 7)
    # As the rows of an older version: the promise fixed at approval, nothing to move it; one set off on Thursday.
    Payout.objects.filter(pk__in=[waiting.payout_id, sent.payout_id]).update(due_working_days=None,
                                                                             due_at=approval_promise)
    Payout.objects.filter(pk=sent.payout_id).update(sending_since=THURSDAY)
    Payout.objects.filter(pk=current.payout_id).update(due_at=approval_promise + dt.timedelta(days=30))

    migration.promise_moves_with_the_money(apps, None)

    waiting_payout, sent_payout, current_payout = (Payout.objects.get(pk=request.payout_id)
                                                   for request in (waiting, sent, current))
    assert (waiting_payout.due_working_days, waiting_payout.due_at) == (7, approval_promise)
    assert sent_payout.due_working_days == 7
    assert sent_payout.due_at == dt.datetime(2026, 11, 16, 10, 0, tzinfo=WIB)  # Thursday + 7 working days
    assert current_payout.due_at == approval_promise + dt.timedelta(days=30)


def test_a_day_off_declared_while_the_money_is_on_its_way_moves_the_queue_promise_with_the_buyers_date(
        client, seller, buyer, finance, planner, django_capture_on_commit_callbacks):  # noqa: F811
    """Staff declare Tuesday 10 November a collective leave day after the refund set off on Thursday 5. The
    buyer's refund-by date moves at once (computed on the calendar of now); the payout queue's promise
    (``Payout.due_at``: its order, the treasury's "overdue") must follow, or staff would chase the bank a
    day before the date the buyer was given. It is recounted when the change commits (and the refund beat job
    recounts it again, finding it right)."""
    from workdays.services import calendar_override_save

    request = approved_without_an_account(seller, buyer, finance)
    txn = request.escrow_transaction
    with now_is(THURSDAY):
        request = services.refund_choose_destination(refund_request=request, buyer=buyer,
                                                     destination=verified_bank(buyer))
    assert Payout.objects.get(pk=request.payout_id).due_at == dt.datetime(2026, 11, 16, 10, 0, tzinfo=WIB)
    with now_is(FRIDAY), django_capture_on_commit_callbacks(execute=True):
        override = calendar_override_save(actor=planner, reason="SKB cuti bersama", date=dt.date(2026, 11, 10),
                                          kind="cuti_bersama", name="Cuti bersama")
    moved = dt.datetime(2026, 11, 17, 10, 0, tzinfo=WIB)
    assert Payout.objects.get(pk=request.payout_id).due_at == moved  # recounted when the change committed
    assert public_due(client, txn, FRIDAY + MINUTE) == moved
    with now_is(FRIDAY + MINUTE):
        services.refund_tasks_refresh_all()
    assert Payout.objects.get(pk=request.payout_id).due_at == moved
    # And back when the day is a working day again.
    from workdays.services import calendar_override_delete

    with now_is(FRIDAY + 2 * MINUTE), django_capture_on_commit_callbacks(execute=True):
        calendar_override_delete(override=override, actor=planner, reason="Dibatalkan")
    with now_is(FRIDAY + 3 * MINUTE):
        services.refund_tasks_refresh_all()
    assert Payout.objects.get(pk=request.payout_id).due_at == dt.datetime(2026, 11, 16, 10, 0, tzinfo=WIB)
