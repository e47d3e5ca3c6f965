"""Returned goods after an upheld rejection (``refunds.policy``: RESEND_*): the money went to the seller,
but the goods are the buyer's and travel back to them — the buyer's address, the seller's courier and
receipt within a working-day deadline (holidays and cuti bersama skipped), the courier's delivery scan
or the buyer's word, late steps raised to a named Finance member, and both parties told in their own
language."""
import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from disputes import services as dispute_services
from escrow import services as escrow_services
from notifications.messages import render_message
from notifications.models import Notification
from refunds import policy, services
from refunds.models import RefundRequest, ReturnShipment
from refunds.policy import StaffTask
from tests.refunds.test_return_lifecycle import _at, christmas, now_is  # noqa: F401 - fixtures
from transactions.models import TransactionEvent
from workdays.calendar import working_calendar

MINUTE = dt.timedelta(minutes=1)
ADDRESS = "Jl. Pembeli Raya 7, Jakarta 10110, 0812-3333-4444"


@pytest.fixture(autouse=True)
def _books_balance():
    yield
    call_command("ledger_check")


def _rejected(disputed, officer, seller, buyer) -> ReturnShipment:
    """A wrong item decided for the buyer, the goods sent back and rejected by the seller."""
    dispute = disputed(reason="wrong_item", description="Warna salah")
    dispute_services.dispute_resolve(dispute=dispute, staff=officer, outcome="refund", reason="Salah kirim terbukti")
    request = RefundRequest.objects.get(escrow_transaction=dispute.escrow_transaction)
    shipment = services.return_ship_back(return_shipment=request.return_shipment, buyer=buyer, courier="jne",
                                         receipt_number="JNE777")
    return services.return_inspect(return_shipment=shipment, seller=seller, accepted=False, note="Nomor seri berbeda")


def _upheld(disputed, officer, finance, seller, buyer, moment, **uphold) -> RefundRequest:
    """``_rejected``, the rejection upheld by Finance at ``moment``."""
    shipment = _rejected(disputed, officer, seller, buyer)
    with now_is(moment):
        escrow_services.escrow_return_rejection_uphold(return_shipment=shipment, actor=finance,
                                                       reason="Nomor seri yang kembali berbeda", **uphold)
    return RefundRequest.objects.select_related("return_shipment").get(pk=shipment.refund_request_id)


def _task_after(request, moment) -> str:
    services.refund_tasks_refresh_all(now=moment)
    request.refresh_from_db()
    return request.handler_task


@pytest.mark.django_db
def test_the_goods_go_back_to_the_buyer_with_deadlines_across_christmas(christmas, disputed, dispute_officer, finance,
                                                                        seller, buyer):
    request = _upheld(disputed, dispute_officer, finance, seller, buyer, _at(2026, 12, 21, 10, 0))  # Monday
    shipment = request.return_shipment
    assert request.status == RefundRequest.Status.REJECTED
    assert shipment.status == ReturnShipment.Status.RESEND_ADDRESS
    assert shipment.resend_shipping_payer == policy.RESEND_SHIPPING_PAYER_DEFAULT == "buyer"
    # 3 working days for the buyer's address: Tue 22, Wed 23, then Thu 24 (cuti bersama), Fri 25
    # (Christmas) and the weekend skipped: Mon 28.
    assert shipment.buyer_address_due_at == _at(2026, 12, 28, 10, 0)
    step = services.refund_next_step(request, now=_at(2026, 12, 22, 9, 0))
    assert step.holder == "buyer" and step.due_at == shipment.buyer_address_due_at
    assert Notification.objects.filter(kind="return_resend_address", recipient=buyer).exists()
    released = Notification.objects.get(kind="refund_released_seller")
    assert released.params["resend_days"] == str(policy.RESEND_SHIP_WORKING_DAYS)
    assert "within 2 working days" in render_message(released.kind, released.params, 1)

    # Nothing from the buyer: at the minute, the step is a named Finance member's.
    assert _task_after(request, shipment.buyer_address_due_at - MINUTE) == ""
    assert _task_after(request, shipment.buyer_address_due_at + MINUTE) == StaffTask.RESEND_ADDRESS
    assert request.handler == finance

    with pytest.raises(services.RefundError) as refused:
        services.return_resend_address_give(return_shipment=shipment, buyer=seller, address=ADDRESS)
    assert refused.value.code == "forbidden"
    with now_is(_at(2026, 12, 29, 9, 0)):
        shipment = services.return_resend_address_give(return_shipment=shipment, buyer=buyer, address=ADDRESS)
    # 2 working days for the seller: Wed 30, Thu 31.
    assert shipment.resend_by == working_calendar().add_working_days(_at(2026, 12, 29, 9, 0),
                                                                     policy.RESEND_SHIP_WORKING_DAYS)
    assert shipment.resend_by == _at(2026, 12, 31, 9, 0)
    request.refresh_from_db()
    assert request.handler_task == ""  # the seller's step now
    requested = Notification.objects.get(kind="return_resend_requested", recipient=seller)
    assert ADDRESS in requested.body and "paid by the recipient" in render_message(requested.kind, requested.params, 1)
    assert _task_after(request, shipment.resend_by - MINUTE) == ""
    assert _task_after(request, shipment.resend_by + MINUTE) == StaffTask.RESEND_SHIPMENT

    with now_is(_at(2027, 1, 4, 10, 0)):
        shipment = services.return_resend(return_shipment=shipment, seller=seller, courier="sicepat",
                                          receipt_number="sc-0009")
    assert shipment.status == ReturnShipment.Status.RESENT and shipment.resend_receipt_number == "SC-0009"
    assert _task_after(request, shipment.resend_expected_by - MINUTE) == ""
    assert _task_after(request, shipment.resend_expected_by + MINUTE) == StaffTask.RESEND_ARRIVAL
    assert "SC-0009" in Notification.objects.get(kind="return_resent", recipient=buyer).body

    with pytest.raises(services.RefundError):
        services.return_resend_mark_received(return_shipment=shipment, buyer=seller)
    services.return_resend_mark_received(return_shipment=shipment, buyer=buyer)
    shipment.refresh_from_db()
    assert shipment.status == ReturnShipment.Status.BACK_WITH_BUYER and shipment.back_with_buyer_source == "buyer"
    assert _task_after(request, shipment.resend_expected_by + dt.timedelta(days=30)) == ""
    assert services.refund_next_step(request).holder == ""
    assert set(Notification.objects.filter(kind="return_back_with_buyer").values_list("recipient", flat=True)) == {
        buyer.pk, seller.pk}
    actions = list(TransactionEvent.objects.filter(escrow_transaction=request.escrow_transaction,
                                                   action__startswith="return_resend")
                   .values_list("action", flat=True))
    assert actions == ["return_resend_ordered", "return_resend_address"]
    assert TransactionEvent.objects.filter(action="return_back_with_buyer", actor_role="buyer").exists()


@pytest.mark.django_db
def test_staff_may_decide_the_seller_pays_and_each_party_reads_it_in_their_language(disputed, dispute_officer,
                                                                                    finance, seller, buyer):
    buyer.preferred_language = "id"
    buyer.save()
    request = _upheld(disputed, dispute_officer, finance, seller, buyer, _at(2026, 11, 2, 10, 0),
                      resend_paid_by="seller")
    shipment = request.return_shipment
    assert shipment.resend_shipping_payer == "seller"
    notice = Notification.objects.get(kind="return_resend_address_seller_pays", recipient=buyer)
    assert notice.language == "id" and shipment.rma_number in notice.body
    assert "penjual" in notice.body.lower()  # written in the buyer's language, not the staff member's
    # Stored as key + parameters: said again in the other language from them.
    with translation.override("en"):
        assert "the seller pays this shipment" in render_message(notice.kind, notice.params, 1)
    services.return_resend_address_give(return_shipment=shipment, buyer=buyer, address=ADDRESS)
    assert Notification.objects.filter(kind="return_resend_requested_seller_pays", recipient=seller).exists()


@pytest.mark.django_db
def test_an_unknown_shipping_payer_is_refused_and_moves_nothing(disputed, dispute_officer, finance, seller, buyer):
    shipment = _rejected(disputed, dispute_officer, seller, buyer)
    with pytest.raises(services.RefundError) as refused:
        escrow_services.escrow_return_rejection_uphold(return_shipment=shipment, actor=finance, reason="Lain",
                                                       resend_paid_by="intrasa")
    assert refused.value.code == "resend_payer"
    shipment.refresh_from_db()
    assert shipment.status == ReturnShipment.Status.REJECTED


@pytest.mark.django_db
def test_the_refund_page_leads_each_party_through_the_way_back(client, disputed, dispute_officer, finance, seller,
                                                                buyer):
    rules = client.get(reverse("pages:refund_policy")).content.decode()
    assert f"the seller sends them within {policy.RESEND_SHIP_WORKING_DAYS} working days" in rules
    request = _upheld(disputed, dispute_officer, finance, seller, buyer, _at(2026, 11, 2, 10, 0))
    url = reverse("refunds:detail", args=[request.escrow_transaction.reference])
    client.force_login(buyer)
    page = client.get(url).content.decode()
    assert 'data-testid="resend-address-form"' in page and request.return_shipment.rma_number in page
    assert "The buyer (paid to the courier on delivery)" in page
    response = client.post(reverse("refunds:resend_address", args=[request.pk]), {"address": ADDRESS}, follow=True)
    assert "Address sent to the seller" in response.content.decode()

    client.force_login(seller)
    page = client.get(url).content.decode()
    assert 'data-testid="resend-form"' in page and "Jl. Pembeli Raya 7" in page
    # The buyer's own steps are not the seller's.
    assert client.post(reverse("refunds:resend_received", args=[request.pk])).status_code == 404
    client.post(reverse("refunds:resend", args=[request.pk]), {"courier": "jnt", "receipt_number": "JP1234567"})

    client.force_login(buyer)
    page = client.get(url).content.decode()
    assert 'data-testid="resend-receipt"' in page and "JP1234567" in page
    assert 'data-testid="resend-received"' in page
    client.post(reverse("refunds:resend_received", args=[request.pk]))
    page = client.get(url).content.decode()
    assert 'data-testid="back-with-buyer"' in page and 'data-testid="resend-received"' not in page


@pytest.mark.django_db(transaction=True)
def test_the_couriers_delivery_scan_marks_the_goods_back_with_the_buyer(tracking_sandbox, disputed, dispute_officer,
                                                                         finance, seller, buyer):
    from django.utils import timezone

    from refunds import tasks

    request = _upheld(disputed, dispute_officer, finance, seller, buyer, timezone.now())
    shipment = services.return_resend_address_give(return_shipment=request.return_shipment, buyer=buyer,
                                                   address=ADDRESS)
    shipment = services.return_resend(return_shipment=shipment, seller=seller, courier="jne",
                                      receipt_number="JNEBACK0001")
    assert tasks.poll_return_tracking() == 1  # asked over HTTP about the parcel to the buyer: picked up only
    shipment.refresh_from_db()
    assert shipment.status == ReturnShipment.Status.RESENT and shipment.tracking_checked_at
    assert tasks.poll_return_tracking() == 0  # not asked again within the hour
    tracking_sandbox("tracking_deliver", courier="jne", receipt_number="JNEBACK0001")
    ReturnShipment.objects.filter(pk=shipment.pk).update(tracking_checked_at=None)
    assert tasks.poll_return_tracking() == 1
    shipment.refresh_from_db()
    assert shipment.status == ReturnShipment.Status.BACK_WITH_BUYER
    assert shipment.back_with_buyer_source == "courier_scan" and shipment.back_with_buyer_at >= shipment.resent_at
    event = TransactionEvent.objects.get(escrow_transaction=request.escrow_transaction, action="return_back_with_buyer")
    assert event.actor_role == "system"
    assert Notification.objects.filter(kind="return_back_with_buyer", recipient=seller).exists()


@pytest.mark.django_db
def test_a_scan_of_another_parcel_moves_nothing(disputed, dispute_officer, finance, seller, buyer):
    from transactions.tracking import DELIVERED, TrackingEvent, TrackingResult

    request = _upheld(disputed, dispute_officer, finance, seller, buyer, _at(2026, 11, 2, 10, 0))
    shipment = services.return_resend_address_give(return_shipment=request.return_shipment, buyer=buyer,
                                                   address=ADDRESS)
    shipment = services.return_resend(return_shipment=shipment, seller=seller, courier="jne", receipt_number="JNEB2")
    delivered = TrackingResult("jne", "JNE777", (TrackingEvent(DELIVERED, _at(2026, 11, 3, 10, 0)),))  # the first leg
    services.return_record_tracking(return_shipment=shipment, result=delivered)
    shipment.refresh_from_db()
    assert shipment.status == ReturnShipment.Status.RESENT
