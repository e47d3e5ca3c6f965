"""The seller's payout promise (FAQ: within 1×24 working hours of the buyer's confirmation) follows the
working-day calendar, as a refund's does (``payout_promise_recount``). Staff may declare a day off, or a
working day, after the promise was counted; Cek Transaksi counts the date on the calendar of now, and the
seller's payout card ("Promised by", "later than promised"), the queue's order and the treasury's
"overdue" read the stored ``Payout.due_at``. Without a recount the two disagree: the card promises a day
that is now a holiday, and Finance is told a payout is overdue on a day nobody works.

Dates are stated by hand (WIB; November 2026 has no public holiday): confirmed Friday 6 November 16.00,
24 working hours later is Monday 9 November 16.00."""
import datetime as dt

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from disbursements import selectors, services
from disbursements.models import Payout
from intrasa.wib import WIB
from tests import scenarios
from tests.disputes.conftest import finance  # noqa: F401 - Finance upholds a rejection
from tests.refunds.test_refund_by import now_is
from tests.workdays.test_overrides import planner  # noqa: F401 - a staff member who may change the calendar
from transactions.models import Status
from workdays.services import calendar_override_delete, calendar_override_save

pytestmark = pytest.mark.django_db

FRIDAY_AFTERNOON = dt.datetime(2026, 11, 6, 16, 0, tzinfo=WIB)
MONDAY_AFTERNOON = dt.datetime(2026, 11, 9, 16, 0, tzinfo=WIB)
TUESDAY_AFTERNOON = dt.datetime(2026, 11, 10, 16, 0, tzinfo=WIB)
SATURDAY = dt.datetime(2026, 11, 7, 10, 0, tzinfo=WIB)
MINUTE = dt.timedelta(minutes=1)


def confirmed_on_friday(seller, buyer) -> Payout:
    """The seller has no payout account yet: the payout waits for one, open."""
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    with now_is(FRIDAY_AFTERNOON):
        scenarios.advance(txn, buyer, Status.CONFIRMED)
    payout = Payout.objects.get(escrow_transaction=txn, purpose=Payout.Purpose.SELLER_PAYOUT)
    assert payout.status == Payout.Status.AWAITING_DESTINATION
    assert payout.due_at == MONDAY_AFTERNOON
    return payout


def public_payout_due(client, txn, at) -> dt.datetime:
    with now_is(at):
        data = client.get(reverse("pages:check_transaction_api", args=[txn.reference])).json()
    assert data["next_due"]["step"] == "payout"
    return dt.datetime.fromisoformat(data["next_due"]["at"])


def test_a_day_off_declared_after_the_confirmation_moves_the_promise_and_back(
        client, seller, buyer, planner, django_capture_on_commit_callbacks):  # noqa: F811
    payout = confirmed_on_friday(seller, buyer)
    txn = payout.escrow_transaction
    with now_is(SATURDAY), django_capture_on_commit_callbacks(execute=True) as after_commit:
        override = calendar_override_save(actor=planner, reason="SKB cuti bersama", date=dt.date(2026, 11, 9),
                                          kind="cuti_bersama", name="Cuti bersama")
        payout.refresh_from_db()
        assert payout.due_at == MONDAY_AFTERNOON  # not before the change commits
    assert after_commit  # the commit forgot the cached calendar and enqueued the recount (eager here)
    payout.refresh_from_db()
    assert payout.due_at == TUESDAY_AFTERNOON  # the card, the queue and the treasury now say Cek's date
    assert public_payout_due(client, txn, SATURDAY + MINUTE) == TUESDAY_AFTERNOON
    with now_is(SATURDAY + MINUTE):
        assert services.payout_promises_recount_all() == 0  # the beat's net finds nothing left to do
    with now_is(SATURDAY + 2 * MINUTE):  # the seller's payout card: "promised by" and the queue's replay
        [card] = selectors.payouts_for(escrow_transaction=txn, user=seller)
        assert card.due_at == TUESDAY_AFTERNOON
        outlook = selectors.payout_outlooks(payouts=[card]).get(card.pk)
        assert outlook is None or outlook.due_at == TUESDAY_AFTERNOON
    record = AuditEntry.objects.filter(action="payout.promise_recounted", object_id=str(payout.pk)).get()
    assert {key: dt.datetime.fromisoformat(value) for key, value in record.data.items()} == {
        "before": MONDAY_AFTERNOON, "after": TUESDAY_AFTERNOON}
    with now_is(SATURDAY + 3 * MINUTE), django_capture_on_commit_callbacks(execute=True):
        calendar_override_delete(override=override, actor=planner, reason="Dibatalkan")
    payout.refresh_from_db()
    assert payout.due_at == MONDAY_AFTERNOON == public_payout_due(client, txn, SATURDAY + 4 * MINUTE)


def test_an_unchanged_calendar_moves_nothing_and_records_nothing(seller, buyer):
    payout = confirmed_on_friday(seller, buyer)
    with now_is(SATURDAY):
        assert services.payout_promises_recount_all() == 0
    payout.refresh_from_db()
    assert payout.due_at == MONDAY_AFTERNOON
    assert not AuditEntry.objects.filter(action="payout.promise_recounted").exists()


def test_a_paid_payout_and_one_promised_before_the_promise_was_kept_stay_as_they_are(
        seller, buyer, planner, django_capture_on_commit_callbacks):  # noqa: F811
    open_payout = confirmed_on_friday(seller, buyer)
    # Planned before payouts kept where their promise counts from: its promise is fixed, as it was.
    Payout.objects.filter(pk=open_payout.pk).update(promise_counted_from=None)
    paid = confirmed_on_friday(seller, buyer)
    Payout.objects.filter(pk=paid.pk).update(status=Payout.Status.COMPLETED)
    with now_is(SATURDAY), django_capture_on_commit_callbacks(execute=True):
        calendar_override_save(actor=planner, reason="SKB cuti bersama", date=dt.date(2026, 11, 9),
                               kind="cuti_bersama", name="Cuti bersama")
    with now_is(SATURDAY + MINUTE):
        assert services.payout_promises_recount_all() == 0
    assert set(Payout.objects.values_list("due_at", flat=True)) == {MONDAY_AFTERNOON}


def test_when_the_broker_cannot_take_the_recount_the_change_stands_and_the_beat_catches_up(
        seller, buyer, planner, django_capture_on_commit_callbacks, monkeypatch, caplog):  # noqa: F811
    """The staff member's change is committed whatever the broker does; the promise then moves at the
    beat's next run (every 15 minutes), as before the change was enqueued at once."""
    from disbursements.tasks import recount_payout_promises

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    payout = confirmed_on_friday(seller, buyer)
    monkeypatch.setattr(recount_payout_promises, "delay", broker_down)
    with now_is(SATURDAY), django_capture_on_commit_callbacks(execute=True):
        override = calendar_override_save(actor=planner, reason="SKB cuti bersama", date=dt.date(2026, 11, 9),
                                          kind="cuti_bersama", name="Cuti bersama")
    assert override.pk and "could not enqueue disbursements.tasks.recount_payout_promises" in caplog.text
    payout.refresh_from_db()
    assert payout.due_at == MONDAY_AFTERNOON
    with now_is(SATURDAY + MINUTE):
        assert services.payout_promises_recount_all() == 1
    payout.refresh_from_db()
    assert payout.due_at == TUESDAY_AFTERNOON


def test_the_beat_runs_the_recount_on_the_housekeeping_queue(settings):
    from celery import current_app

    jobs = [job for job in settings.CELERY_BEAT_SCHEDULE.values()
            if job["task"] == "disbursements.tasks.recount_payout_promises"]
    assert len(jobs) == 1 and jobs[0]["schedule"] <= 900
    route = current_app.amqp.router.route({}, "disbursements.tasks.recount_payout_promises")
    assert route["queue"].name == "housekeeping"


def test_a_promise_already_broken_stays_broken(seller, buyer, planner, django_capture_on_commit_callbacks):  # noqa: F811
    """Confirmed Thursday 09.00, promised Friday 09.00; at 10.00 the payout is late. Declaring that Friday
    off afterwards must not turn the broken promise into one "not yet due" (the treasury's overdue count,
    the card's "later than promised", the morning forecast's late list all read it)."""
    thursday, friday = dt.datetime(2026, 11, 5, 9, 0, tzinfo=WIB), dt.datetime(2026, 11, 6, 9, 0, tzinfo=WIB)
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    with now_is(thursday):
        scenarios.advance(txn, buyer, Status.CONFIRMED)
    payout = Payout.objects.get(escrow_transaction=txn)
    assert payout.due_at == friday
    with now_is(friday + dt.timedelta(hours=1)), django_capture_on_commit_callbacks(execute=True):
        calendar_override_save(actor=planner, reason="Kantor tutup", date=dt.date(2026, 11, 6),
                               kind="holiday", name="Kantor tutup")
    with now_is(friday + dt.timedelta(hours=1, minutes=1)):
        assert services.payout_promises_recount_all() == 0
        assert services.payout_promise_recount(payout=Payout.objects.get(pk=payout.pk)) is False
    payout.refresh_from_db()
    assert payout.due_at == friday


def test_the_beat_job_reads_in_one_query_however_many_payouts_are_open(seller, buyer):
    """Nothing changed (the usual case, every 15 minutes): one plain read, no lock, no write."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_with(count: int) -> int:
        while Payout.objects.filter(status=Payout.Status.AWAITING_DESTINATION).count() < count:
            confirmed_on_friday(seller, buyer)
        with now_is(SATURDAY), CaptureQueriesContext(connection) as captured:
            assert services.payout_promises_recount_all() == 0
        assert not any("FOR UPDATE" in query["sql"] for query in captured.captured_queries)
        return len(captured)

    assert queries_with(1) == queries_with(4) <= 2  # the payouts (and the calendar's overrides, if not cached)


def test_a_second_seller_payout_after_an_upheld_rejection_is_promised_and_shown_from_that_decision(
        client, seller, buyer, finance):
    """A split on Monday pays the seller's own part; the buyer returns the goods, the seller rejects them and
    Finance upholds the rejection on Wednesday: the rest is released then, and the seller's second payout is
    promised 1×24 working hours from Wednesday. Cek Transaksi counted from the first confirmation (Monday),
    a date already past, while the card said Thursday."""
    from escrow import services as escrow_services
    from tests.refunds.test_rejections import _goods_rejected, _non_defect_split

    monday, wednesday = dt.datetime(2026, 11, 2, 10, 0, tzinfo=WIB), dt.datetime(2026, 11, 4, 10, 0, tzinfo=WIB)
    with now_is(monday):
        request = _non_defect_split(seller, buyer)
    txn = request.escrow_transaction
    with now_is(wednesday):
        escrow_services.escrow_return_rejection_uphold(return_shipment=_goods_rejected(request, seller, buyer),
                                                       actor=finance, reason="Barang yang kembali berbeda")
    second = Payout.objects.filter(escrow_transaction=txn, purpose=Payout.Purpose.SELLER_PAYOUT).latest("pk")
    thursday = dt.datetime(2026, 11, 5, 10, 0, tzinfo=WIB)
    assert second.due_at == thursday
    assert public_payout_due(client, txn, wednesday + MINUTE) == thursday
