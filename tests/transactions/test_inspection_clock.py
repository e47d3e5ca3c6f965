"""The fair inspection clock: it starts at delivery (the buyer's word, the courier's delivery scan, or
the courier's estimate), across holidays and cuti bersama; one extension; reminders and auto-confirm
follow the deadline; courier events come from the tracking sandbox over real HTTP."""
import datetime as dt
import time
from unittest import mock

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from escrow import tasks as escrow_tasks
from intrasa.wib import WIB
from notifications.models import Notification
from tests import scenarios
from transactions import delivery, services, tasks
from transactions.delivery import DeliverySource
from transactions.models import EscrowTransaction, Status
from transactions.tracking import DELIVERED, IN_TRANSIT, PICKED_UP, TrackingEvent, TrackingResult
from workdays.calendar import working_calendar
from workdays.models import CalendarOverride


@pytest.fixture(autouse=True)
def _books_balance():
    yield
    call_command("ledger_check")


def _at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=WIB)


def _scan(txn, at: dt.datetime) -> TrackingResult:
    return TrackingResult(txn.courier, txn.tracking_number, (
        TrackingEvent(PICKED_UP, txn.shipped_at, "Jakarta"), TrackingEvent(DELIVERED, at, "Bandung")))


@pytest.fixture
def shipped(seller, buyer):
    def make(**overrides):
        return scenarios.advance(scenarios.create(seller, buyer, **overrides), buyer, Status.SHIPPED)
    return make


@pytest.mark.django_db
def test_shipping_does_not_start_the_clock_the_courier_estimate_does(shipped):
    txn = shipped()
    calendar = working_calendar()
    estimate = calendar.add_working_days(txn.shipped_at, delivery.COURIER_ESTIMATE_WORKING_DAYS["jne"])
    assert txn.delivered_at is None and txn.delivery_source == ""
    assert txn.inspection_ends_at == calendar.add_working_days(estimate, txn.inspection_days)
    assert txn.inspection_ends_at > calendar.add_working_days(txn.shipped_at, txn.inspection_days)


@pytest.mark.django_db
def test_services_start_the_clock_at_the_sellers_delivery(seller, buyer):
    txn = scenarios.create(seller, buyer, category="service", shipping_cost=0)
    txn = scenarios.advance(txn, buyer, Status.VERIFIED)
    txn = services.transaction_ship(escrow_transaction=txn, seller=seller, delivery_note="Desain dikirim via email")
    assert txn.delivery_source == DeliverySource.SELLER_DELIVERY and txn.delivered_at == txn.shipped_at
    assert txn.inspection_ends_at == working_calendar().add_working_days(txn.shipped_at, txn.inspection_days)


@pytest.mark.django_db
def test_a_delivery_scan_before_christmas_and_cuti_bersama_counts_working_days_only(shipped, buyer):
    # Wed 23 Dec 2026 delivered; Thu 24 Dec cuti bersama (recorded by staff), Fri 25 Dec Christmas.
    CalendarOverride.objects.create(date=dt.date(2026, 12, 24), kind="cuti_bersama", name="Cuti bersama Natal")
    CalendarOverride.objects.create(date=dt.date(2026, 12, 31), kind="working_day", name="Hari kerja")
    txn = shipped()
    scan = _at(2026, 12, 23, 10, 0)
    txn = services.transaction_record_tracking(escrow_transaction=txn, result=_scan(txn, scan),
                                               now=_at(2026, 12, 23, 12, 0))
    assert txn.delivered_at == scan and txn.delivery_source == DeliverySource.COURIER_SCAN
    assert txn.inspection_ends_at == _at(2026, 12, 30, 10, 0)  # Mon 28, Tue 29, Wed 30
    # The buyer extends once, with a reason: 3 more working days over New Year (1 Jan) and Isra Mikraj
    # (Tue 5 Jan 2027), both public holidays.
    txn = services.transaction_extend_inspection(escrow_transaction=txn, buyer=buyer, reason="Perlu uji lebih lama")
    assert txn.inspection_ends_at == _at(2027, 1, 6, 10, 0)  # Thu 31 Dec, Mon 4, Wed 6 Jan
    labels = [e.action for e in txn.events.all()]
    assert "courier_delivered" in labels and "delivered_scan" in labels and "inspection_extended" in labels


@pytest.mark.django_db
def test_implausible_scans_are_ignored_or_clamped(shipped):
    txn = shipped()
    services.transaction_record_tracking(escrow_transaction=txn, result=_scan(txn, timezone.now() + dt.timedelta(days=1)))
    txn.refresh_from_db()
    assert txn.delivered_at is None  # a scan in the future is not a delivery
    early = txn.shipped_at - dt.timedelta(days=2)
    services.transaction_record_tracking(escrow_transaction=txn, result=_scan(txn, early))
    txn.refresh_from_db()
    assert txn.delivered_at == txn.shipped_at  # never before the goods can have arrived


@pytest.mark.django_db
def test_the_estimate_starts_the_clock_and_a_later_scan_moves_it_later(shipped):
    txn = shipped()
    calendar = working_calendar()
    estimate = calendar.add_working_days(txn.shipped_at, delivery.COURIER_ESTIMATE_WORKING_DAYS["jne"])
    no_news = TrackingResult(txn.courier, txn.tracking_number, (TrackingEvent(IN_TRANSIT, txn.shipped_at),))
    txn = services.transaction_record_tracking(escrow_transaction=txn, result=no_news, now=estimate + dt.timedelta(hours=1))
    assert txn.delivery_source == DeliverySource.ESTIMATE and txn.delivered_at == estimate
    late = estimate + dt.timedelta(days=3)
    txn = services.transaction_record_tracking(escrow_transaction=txn, result=_scan(txn, late),
                                               now=late + dt.timedelta(hours=1))
    assert txn.delivery_source == DeliverySource.COURIER_SCAN and txn.delivered_at == late
    assert txn.inspection_ends_at == calendar.add_working_days(late, txn.inspection_days)


@pytest.mark.django_db
def test_buyer_marks_received_and_extends_once_from_the_page(client, shipped, buyer, seller):
    txn = shipped()
    client.force_login(buyer)
    page = client.get(txn.get_absolute_url()).content.decode()
    assert 'data-testid="mark-received"' in page and 'data-testid="extend-inspection"' in page
    before = timezone.now()
    client.post(reverse("transactions:act", args=[txn.reference, "received"]))
    txn.refresh_from_db()
    assert txn.delivery_source == DeliverySource.BUYER and txn.delivered_at >= before
    assert txn.inspection_ends_at == working_calendar().add_working_days(txn.delivered_at, txn.inspection_days)
    assert Notification.objects.filter(kind="goods_received", recipient=seller).exists()
    with pytest.raises(services.TransactionActionError) as refused:
        services.transaction_mark_received(escrow_transaction=txn, buyer=buyer)
    assert refused.value.code == "already_delivered"
    # Without a reason nothing changes; with one the deadline moves and the seller is told.
    client.post(reverse("transactions:act", args=[txn.reference, "extend"]), {"reason": ""})
    txn.refresh_from_db()
    assert txn.inspection_extended_at is None
    old_deadline = txn.inspection_ends_at
    client.post(reverse("transactions:act", args=[txn.reference, "extend"]), {"reason": "Masih menguji baterai"})
    txn.refresh_from_db()
    assert txn.inspection_ends_at == working_calendar().add_working_days(old_deadline, delivery.EXTENSION_WORKING_DAYS)
    notice = Notification.objects.get(kind="inspection_extended", recipient=seller)
    assert "Masih menguji baterai" in notice.body
    with pytest.raises(services.TransactionActionError) as refused:
        services.transaction_extend_inspection(escrow_transaction=txn, buyer=buyer, reason="Sekali lagi")
    assert refused.value.code == "already_extended"
    with pytest.raises(services.TransactionActionError) as refused:
        services.transaction_extend_inspection(escrow_transaction=txn, buyer=seller, reason="x")
    assert refused.value.code == "forbidden"


@pytest.mark.django_db
def test_no_extension_after_the_period_ended(shipped, buyer):
    txn = shipped()
    EscrowTransaction.objects.filter(pk=txn.pk).update(inspection_ends_at=timezone.now() - dt.timedelta(minutes=1))
    with pytest.raises(services.TransactionActionError) as refused:
        services.transaction_extend_inspection(escrow_transaction=txn, buyer=buyer, reason="Terlambat")
    assert refused.value.code == "ended"


@pytest.mark.django_db
def test_reminder_and_auto_confirm_follow_the_extended_deadline(shipped, buyer):
    txn = shipped()
    txn = services.transaction_mark_received(escrow_transaction=txn, buyer=buyer)
    old_deadline = txn.inspection_ends_at
    with mock.patch("django.utils.timezone.now", return_value=old_deadline - dt.timedelta(hours=2)):
        tasks.send_due_reminders()
    assert Notification.objects.filter(kind="confirm_reminder", recipient=buyer).count() == 1
    txn = services.transaction_extend_inspection(escrow_transaction=txn, buyer=buyer, reason="Butuh waktu")
    new_deadline = txn.inspection_ends_at
    assert txn.confirm_reminder_sent_at is None and new_deadline > old_deadline
    with mock.patch("django.utils.timezone.now", return_value=old_deadline + dt.timedelta(minutes=1)):
        assert escrow_tasks.auto_confirm_due_transactions() == 0  # the old deadline no longer releases
    with mock.patch("django.utils.timezone.now", return_value=new_deadline - dt.timedelta(hours=2)):
        tasks.send_due_reminders()
    reminders = Notification.objects.filter(kind="confirm_reminder", recipient=buyer)
    assert reminders.count() == 2  # a second reminder, for the new deadline
    with mock.patch("django.utils.timezone.now", return_value=new_deadline + dt.timedelta(minutes=1)):
        assert escrow_tasks.auto_confirm_due_transactions() == 1
    txn.refresh_from_db()
    assert txn.status == Status.CONFIRMED and txn.auto_confirmed


@pytest.mark.django_db(transaction=True)
def test_courier_events_from_the_tracking_sandbox_start_the_clock(tracking_sandbox, client, shipped, buyer):
    txn = shipped()
    picked = txn.shipped_at + dt.timedelta(milliseconds=100)
    delivered = txn.shipped_at + dt.timedelta(seconds=1)
    tracking_sandbox("tracking_script", courier="jne", receipt_number=txn.tracking_number, events=[
        {"code": "picked_up", "at": picked.isoformat()},
        {"code": "in_transit", "at": (picked + dt.timedelta(milliseconds=100)).isoformat(), "location": "Hub Cikarang"},
        {"code": "delivered", "at": delivered.isoformat(), "location": "Bandung"},
        {"code": "delivered", "at": (timezone.now() + dt.timedelta(days=2)).isoformat()},  # not yet due
    ])
    time.sleep(max(0.0, (delivered - timezone.now()).total_seconds()) + 0.1)  # the scan's time has come
    assert tasks.poll_courier_tracking() == 1
    txn.refresh_from_db()
    assert txn.delivery_source == DeliverySource.COURIER_SCAN
    assert abs((txn.delivered_at - delivered).total_seconds()) < 1
    assert txn.inspection_ends_at == working_calendar().add_working_days(txn.delivered_at, txn.inspection_days)
    actions = list(txn.events.values_list("action", flat=True))
    assert actions.count("courier_picked_up") == 1 and "courier_in_transit" in actions
    assert actions.count("courier_delivered") == 1
    assert tasks.poll_courier_tracking() == 0  # delivery known: nothing more to ask
    client.force_login(buyer)
    page = client.get(txn.get_absolute_url()).content.decode()
    assert "Kurir: dalam perjalanan" in page and 'data-testid="inspection-start"' in page
    assert 'data-testid="mark-received"' not in page


@pytest.mark.django_db(transaction=True)
def test_an_unknown_parcel_gets_the_default_sandbox_script(tracking_sandbox, shipped):
    from transactions.tracking import default_client

    txn = shipped()
    client = default_client()
    result = client.track(courier="jne", receipt_number=txn.tracking_number)
    client.close()
    assert [e.code for e in result.events] == [PICKED_UP]  # transit and delivery come later in real time
    assert result.delivered_at is None
    tracking_sandbox("tracking_deliver", courier="jne", receipt_number=txn.tracking_number)
    client = default_client()
    assert client.track(courier="jne", receipt_number=txn.tracking_number).delivered_at is not None
    client.close()
