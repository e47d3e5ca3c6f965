"""A return from authorisation to the refund (refunds.policy: returns): the RMA number, the seller's
address, the buyer's courier receipt, the arrival and the seller's inspection, each deadline on the
working-day calendar (weekends, public holidays and cuti bersama skipped), and every step that passes
its deadline raised to a named Finance member by the periodic task scan — at the minute, not before."""
import datetime as dt
from contextlib import contextmanager
from unittest import mock

import pytest
from django.core.management import call_command
from django.urls import reverse

from audit.models import AuditEntry
from disputes import services as dispute_services
from escrow import services as escrow_services
from intrasa.wib import WIB
from notifications.models import Notification
from refunds import policy, services
from refunds.models import RefundRequest, ReturnShipment
from refunds.policy import Document, StaffTask
from transactions.models import TransactionEvent
from workdays.calendar import working_calendar
from workdays.models import CalendarOverride

MINUTE = dt.timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _books_balance():
    yield
    call_command("ledger_check")


@pytest.fixture
def christmas():
    """Thu 24 Dec 2026 is cuti bersama (recorded by staff); Fri 25 Dec is Christmas."""
    CalendarOverride.objects.create(date=dt.date(2026, 12, 24), kind="cuti_bersama", name="Cuti bersama Natal")


def _at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=WIB)


@contextmanager
def now_is(moment):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def _authorised_return(disputed, officer, moment) -> RefundRequest:
    """A wrong item, decided for the buyer at ``moment``: the goods come back."""
    dispute = disputed(reason="wrong_item", description="Warna salah")
    with now_is(moment):
        dispute_services.dispute_resolve(dispute=dispute, staff=officer, outcome="refund", reason="Salah kirim terbukti")
    return RefundRequest.objects.select_related("return_shipment").get(escrow_transaction=dispute.escrow_transaction)


def _task_after(request, moment) -> str:
    services.refund_tasks_refresh_all(now=moment)
    request.refresh_from_db()
    return request.handler_task


@pytest.mark.django_db
def test_each_return_step_has_its_deadline_across_cuti_bersama_and_christmas(
        client, christmas, disputed, dispute_officer, finance, seller, buyer):
    request = _authorised_return(disputed, dispute_officer, _at(2026, 12, 21, 10, 0))  # Monday
    shipment = request.return_shipment
    txn = request.escrow_transaction
    assert shipment.rma_number == f"RMA-{txn.reference}-{request.pk}"
    assert request.documents.get(kind=Document.RMA_NUMBER).value == shipment.rma_number
    # 2 working days for the address: Tue 22, Wed 23.
    assert shipment.address_due_at == _at(2026, 12, 23, 10, 0)
    step = services.refund_next_step(request, now=_at(2026, 12, 22, 9, 0))
    assert step.holder == "seller" and step.due_at == shipment.address_due_at
    assert Notification.objects.filter(kind="return_next_step", recipient=seller).exists()

    with now_is(_at(2026, 12, 23, 9, 0)):
        services.return_address_give(return_shipment=shipment, seller=seller,
                                     address="Jl. Melati 5, Bandung 40111, 0812-1111-2222")
    shipment.refresh_from_db()
    # 3 working days to ship back: Thu 24 (cuti bersama), Fri 25 (Christmas) and the weekend skipped.
    assert shipment.ship_by == _at(2026, 12, 30, 9, 0)
    assert Notification.objects.filter(kind="return_next_step", recipient=buyer).exists()
    client.force_login(buyer)
    page = client.get(reverse("refunds:detail", args=[txn.reference])).content.decode()
    assert "Jl. Melati 5" in page and 'data-testid="return-ship-form"' in page

    with now_is(_at(2026, 12, 29, 15, 0)):
        services.return_ship_back(return_shipment=shipment, buyer=buyer, courier="jne", receipt_number="JNE123")
    shipment.refresh_from_db()
    assert shipment.arrival_expected_by == working_calendar().add_working_days(
        _at(2026, 12, 29, 15, 0), policy.RETURN_TRANSIT_WORKING_DAYS)

    with now_is(_at(2027, 1, 4, 16, 0)):  # Monday
        services.return_mark_arrived(return_shipment=shipment, seller=seller)
    shipment.refresh_from_db()
    # 2×24 working hours: 8 h on Monday, Tue 5 Jan (Isra Mikraj) skipped, 24 h Wednesday, 16 h Thursday.
    assert shipment.inspect_by == _at(2027, 1, 7, 16, 0)

    with now_is(_at(2027, 1, 6, 10, 0)):
        services.return_inspect(return_shipment=shipment, seller=seller, accepted=True, note="Kembali utuh")
    request.refresh_from_db()
    assert request.status == RefundRequest.Status.IN_REVIEW
    assert request.documents.get(kind=Document.INSPECTION_RESULT).source == "seller"
    assert request.handler == finance and request.handler_task == StaffTask.VERIFY_AND_APPROVE
    actions = list(TransactionEvent.objects.filter(escrow_transaction=txn, action__startswith="return_")
                   .values_list("action", flat=True))
    assert actions == ["return_authorised", "return_address", "return_shipped", "return_arrived", "return_inspected"]
    assert AuditEntry.objects.filter(action="refund.return_inspected", actor=seller).exists()


@pytest.mark.django_db
def test_a_seller_who_gives_no_address_passes_the_step_to_staff_at_the_deadline(christmas, disputed, dispute_officer,
                                                                                finance):
    request = _authorised_return(disputed, dispute_officer, _at(2026, 12, 22, 14, 0))  # Tuesday
    due = request.return_shipment.address_due_at
    assert due == _at(2026, 12, 28, 14, 0)  # Wed 23, then Mon 28
    assert _task_after(request, due - MINUTE) == ""
    assert _task_after(request, due + MINUTE) == StaffTask.RETURN_ADDRESS
    assert request.handler == finance
    assert request.handler_due_at == working_calendar().add_working_hours(due, policy.STAFF_TASK_WORKING_HOURS)
    assert Notification.objects.filter(kind="refund_task", recipient=finance).count() == 1
    # Finance get the address from the seller and enter it: the step is the buyer's again.
    with now_is(due + dt.timedelta(hours=2)):
        shipment = services.return_address_give(return_shipment=request.return_shipment, seller=finance,
                                                address="Jl. Melati 5, Bandung 40111, 0812-1111-2222")
    assert TransactionEvent.objects.get(action="return_address").actor_role == "staff"
    assert _task_after(request, shipment.ship_by - MINUTE) == ""


@pytest.mark.django_db
def test_a_buyer_who_does_not_ship_back_passes_the_step_to_staff_at_the_deadline(christmas, disputed, dispute_officer,
                                                                                 finance, seller):
    request = _authorised_return(disputed, dispute_officer, _at(2026, 12, 21, 10, 0))
    with now_is(_at(2026, 12, 23, 17, 30)):
        shipment = services.return_address_give(return_shipment=request.return_shipment, seller=seller,
                                                 address="Gudang Toko, Jl. Kenanga 9, Depok 16411")
    assert shipment.ship_by == _at(2026, 12, 30, 17, 30)
    fresh = RefundRequest.objects.get(pk=request.pk)
    assert services.refund_next_step(fresh, now=shipment.ship_by - MINUTE).holder == "buyer"
    assert _task_after(request, shipment.ship_by - MINUTE) == ""
    assert _task_after(request, shipment.ship_by + MINUTE) == StaffTask.RETURN_SHIPMENT
    assert request.handler == finance


@pytest.mark.django_db
def test_goods_nobody_reports_back_and_an_inspection_not_recorded_go_to_staff(christmas, disputed, dispute_officer,
                                                                             seller, buyer):
    request = _authorised_return(disputed, dispute_officer, _at(2027, 1, 4, 10, 0))
    # A buyer who already sent the goods may enter the receipt before the address is given.
    with now_is(_at(2027, 1, 4, 11, 0)):
        shipment = services.return_ship_back(return_shipment=request.return_shipment, buyer=buyer, courier="sicepat",
                                             receipt_number="SC-000123")
    expected = shipment.arrival_expected_by
    assert _task_after(request, expected - MINUTE) == ""
    assert _task_after(request, expected + MINUTE) == StaffTask.RETURN_ARRIVAL
    with now_is(expected + dt.timedelta(hours=2)):
        shipment = services.return_mark_arrived(return_shipment=shipment, seller=seller)
    assert _task_after(request, shipment.inspect_by - MINUTE) == ""  # the seller's step again
    assert _task_after(request, shipment.inspect_by + MINUTE) == StaffTask.RECORD_INSPECTION


@pytest.mark.django_db
def test_a_rejected_inspection_is_decided_by_staff_never_by_the_clock(disputed, dispute_officer, finance, seller,
                                                                      buyer):
    request = _authorised_return(disputed, dispute_officer, _at(2026, 11, 2, 10, 0))
    shipment = services.return_ship_back(return_shipment=request.return_shipment, buyer=buyer, courier="jne",
                                         receipt_number="JNE555")
    with pytest.raises(services.RefundError) as refused:
        services.return_inspect(return_shipment=shipment, seller=seller, accepted=False, note="")
    assert refused.value.code == "note_required"
    with pytest.raises(services.RefundError) as refused:
        services.return_inspect(return_shipment=shipment, seller=buyer, accepted=True, note="Bagus")
    assert refused.value.code == "forbidden"
    shipment = services.return_inspect(return_shipment=shipment, seller=seller, accepted=False,
                                       note="Barang kembali tergores, bukan kondisi saat dikirim")
    request.refresh_from_db()
    assert shipment.status == ReturnShipment.Status.REJECTED and request.status == RefundRequest.Status.AWAITING_DOCUMENTS
    assert request.handler == finance and request.handler_task == StaffTask.DECIDE_INSPECTION
    with pytest.raises(services.RefundError):
        services.return_inspection_decide(return_shipment=shipment, actor=dispute_officer, accept=True, reason="x")
    services.return_inspection_decide(return_shipment=shipment, actor=finance, accept=True,
                                      reason="Foto pengiriman menunjukkan goresan sudah ada sebelum dikirim")
    request.refresh_from_db()
    shipment.refresh_from_db()
    assert shipment.status == ReturnShipment.Status.ACCEPTED and shipment.decided_by == finance
    assert request.status == RefundRequest.Status.IN_REVIEW
    assert request.documents.get(kind=Document.INSPECTION_RESULT).source == "staff"


@pytest.mark.django_db
def test_staff_who_uphold_a_rejection_reject_the_refund_with_the_reason(disputed, dispute_officer, finance, seller,
                                                                        buyer):
    request = _authorised_return(disputed, dispute_officer, _at(2026, 11, 2, 10, 0))
    shipment = services.return_ship_back(return_shipment=request.return_shipment, buyer=buyer, courier="jne",
                                         receipt_number="JNE556")
    services.return_inspect(return_shipment=shipment, seller=seller, accepted=False, note="Yang kembali barang lain")
    escrow_services.escrow_return_rejection_uphold(return_shipment=shipment, actor=finance,
                                                   reason="Nomor seri yang kembali berbeda")
    request.refresh_from_db()
    assert request.status == RefundRequest.Status.REJECTED and "Nomor seri" in request.rejected_reason
    assert request.handler_task == ""


@pytest.mark.django_db
def test_only_the_parties_take_their_own_return_steps(client, disputed, dispute_officer, seller, buyer, stranger):
    request = _authorised_return(disputed, dispute_officer, _at(2026, 11, 2, 10, 0))
    shipment = request.return_shipment
    with pytest.raises(services.RefundError) as refused:
        services.return_address_give(return_shipment=shipment, seller=buyer, address="Jl. Pembeli 1, Jakarta 10110")
    assert refused.value.code == "forbidden"
    with pytest.raises(services.RefundError) as refused:
        services.return_address_give(return_shipment=shipment, seller=seller, address="Bandung")
    assert refused.value.code == "address_required"
    with pytest.raises(services.RefundError) as refused:
        services.return_ship_back(return_shipment=shipment, buyer=buyer, courier="jne", receipt_number="<script>")
    assert refused.value.code == "receipt_required"
    client.force_login(stranger)
    assert client.post(reverse("refunds:return_address", args=[request.pk]),
                       {"address": "Jl. Orang Lain 1, Jakarta"}).status_code == 404
    client.force_login(buyer)
    assert client.post(reverse("refunds:return_arrived", args=[request.pk])).status_code == 404
    # A refund with no goods coming back has no return steps.
    other = disputed(reason="not_received", description="Tidak sampai")
    dispute_services.dispute_resolve(dispute=other, staff=dispute_officer, outcome="refund", reason="Hilang")
    plain = RefundRequest.objects.get(escrow_transaction=other.escrow_transaction)
    assert not ReturnShipment.objects.filter(refund_request=plain).exists()
    assert client.post(reverse("refunds:return_ship", args=[plain.pk]),
                       {"courier": "jne", "receipt_number": "X1"}).status_code == 404


@pytest.mark.django_db
def test_the_policy_page_and_the_refund_page_tell_the_same_return_rules(client, disputed, dispute_officer, buyer):
    page = client.get(reverse("pages:refund_policy"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="policy-returns"' in page
    assert f"The seller gives the return address within {policy.RETURN_ADDRESS_WORKING_DAYS} working days" in page
    assert f"You ship the goods back within {policy.RETURN_SHIP_WORKING_DAYS} working days" in page
    assert f"within {policy.INSPECTION_WORKING_HOURS} working hours of their arrival" in page
    assert 'data-testid="policy-short-shipment"' in page and 'data-testid="policy-failed-charged"' in page
    request = _authorised_return(disputed, dispute_officer, _at(2026, 11, 2, 10, 0))
    client.force_login(buyer)
    page = client.get(reverse("refunds:detail", args=[request.escrow_transaction.reference]),
                      HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "inspects them within 2×24 working hours of their arrival" in page
    assert policy.INSPECTION_WORKING_HOURS == policy.APPROVAL_WORKING_HOURS == 48  # the seed's 2×24


@pytest.mark.django_db
def test_the_buyers_data_archive_holds_the_return(disputed, dispute_officer, buyer):
    from privacy.export import collect, present

    request = _authorised_return(disputed, dispute_officer, _at(2026, 11, 2, 10, 0))
    services.return_ship_back(return_shipment=request.return_shipment, buyer=buyer, courier="jne",
                              receipt_number="JNE0001")
    document, _files = collect(buyer)
    [record] = document["sections"]["refund_requests"]
    assert record["return"][0]["rma"] == request.return_shipment.rma_number
    assert record["return"][0]["receipt_number"] == "JNE0001"
    assert present(document)  # every key has its label in the PDF


@pytest.mark.django_db(transaction=True)
def test_the_couriers_delivery_scan_starts_the_sellers_inspection_clock(tracking_sandbox, disputed, dispute_officer,
                                                                        buyer):
    from django.utils import timezone

    from refunds import tasks

    request = _authorised_return(disputed, dispute_officer, timezone.now())
    shipment = services.return_ship_back(return_shipment=request.return_shipment, buyer=buyer, courier="jne",
                                         receipt_number="JNERET0001")
    assert tasks.poll_return_tracking() == 1  # asked over HTTP: picked up only, not back yet
    shipment.refresh_from_db()
    assert shipment.status == ReturnShipment.Status.SHIPPED_BACK and shipment.tracking_checked_at
    assert tasks.poll_return_tracking() == 0  # not asked again within the hour
    tracking_sandbox("tracking_deliver", courier="jne", receipt_number="JNERET0001")
    ReturnShipment.objects.filter(pk=shipment.pk).update(tracking_checked_at=None)
    assert tasks.poll_return_tracking() == 1
    shipment.refresh_from_db()
    assert shipment.status == ReturnShipment.Status.ARRIVED and shipment.arrived_at >= shipment.shipped_back_at
    assert shipment.inspect_by == working_calendar().add_working_hours(shipment.arrived_at,
                                                                       policy.INSPECTION_WORKING_HOURS)
    event = TransactionEvent.objects.get(escrow_transaction=request.escrow_transaction, action="return_arrived")
    assert event.actor_role == "system" and event.data["source"] == "courier_scan"
    assert services.refund_next_step(RefundRequest.objects.get(pk=request.pk)).holder == "seller"
