"""Disputes through the website: opening, evidence, messages, offers, deadlines, escalation."""
import datetime as dt
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from disputes import services, tasks
from disputes.models import Dispute, Evidence, SettlementOffer
from intrasa.wib import wib_date
from ledger.models import AccountCategory
from ledger.selectors import transaction_balances
from notifications.models import Notification
from refunds.models import RefundRequest
from refunds.policy import DisputeReason
from tests import scenarios
from transactions import services as txn_services
from transactions.models import Status
from workdays.calendar import working_calendar
from workdays.models import CalendarOverride

from .conftest import image_upload, mp4_upload, pdf_upload, png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _books_balance():
    yield
    call_command("ledger_check")


def open_url(txn):
    return reverse("disputes:open", kwargs={"reference": txn.reference})


def test_buyer_opens_a_dispute_with_reason_description_and_evidence(client, shipped, buyer, seller):
    txn = shipped()
    client.force_login(buyer)
    page = client.get(txn.get_absolute_url()).content.decode()
    assert 'data-testid="dispute-open-form"' in page
    for value in DisputeReason.values:
        assert f'value="{value}"' in page
    upload = image_upload()
    response = client.post(open_url(txn), {"reason": "wrong_item", "description": "Warna salah",
                                           "evidence": upload, "evidence_purpose": "photo"})
    dispute = Dispute.objects.get()
    assert response.url == dispute.get_absolute_url()
    txn.refresh_from_db()
    assert txn.status == Status.DISPUTED
    assert transaction_balances(escrow_transaction=txn)[AccountCategory.ESCROW_HOLD] == txn.amount_received
    evidence = Evidence.objects.get()
    assert evidence.sha256 == hashlib.sha256(png_bytes()).hexdigest()
    assert evidence.uploaded_by == buyer and evidence.content_type == "image/png"
    assert evidence.file.path.split("/media/")[1].startswith("private/disputes/")
    assert Notification.objects.filter(kind="dispute_opened", recipient=seller).exists()
    page = client.get(dispute.get_absolute_url()).content.decode()
    assert "Warna salah" in page and 'data-testid="evidence-link"' in page


def test_opening_a_dispute_stops_auto_confirm(shipped, buyer):
    txn = shipped()
    services.dispute_open(escrow_transaction=txn, buyer=buyer, reason="not_received", description="Belum sampai")
    txn.refresh_from_db()
    type(txn).objects.filter(pk=txn.pk).update(inspection_ends_at=timezone.now() - dt.timedelta(days=1))
    assert txn_services.transaction_auto_confirm(escrow_transaction=txn) is None
    txn.refresh_from_db()
    assert txn.status == Status.DISPUTED


def test_only_the_buyer_can_open_a_dispute(client, shipped, seller):
    txn = shipped()
    client.force_login(seller)
    client.post(open_url(txn), {"reason": "defective", "description": "x"})
    txn.refresh_from_db()
    assert txn.status == Status.SHIPPED and not Dispute.objects.exists()


def test_not_shipped_claim_only_after_the_shipping_deadline_and_goes_to_staff(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    with pytest.raises(services.DisputeError) as refused:
        services.dispute_open(escrow_transaction=txn, buyer=buyer, reason="not_shipped", description="Belum dikirim")
    assert refused.value.code == "deadline_not_passed"
    type(txn).objects.filter(pk=txn.pk).update(shipping_deadline=timezone.now() - dt.timedelta(hours=1))
    dispute = services.dispute_open(escrow_transaction=txn, buyer=buyer, reason="not_shipped",
                                    description="Lewat batas kirim")
    assert dispute.status == Dispute.Status.ESCALATED and dispute.staff_due_at is not None


@pytest.mark.parametrize("name,content,code", [
    ("virus.jpg", b"MZ\x90\x00" + b"\x00" * 100, "file_type"),  # an executable renamed to .jpg
    ("scan.jpg", b"%PDF-1.4\n%%EOF", "file_type"),  # a PDF calling itself a photo
    ("notes.txt", b"hello", "file_type"),
])
def test_forbidden_file_type_is_refused_with_a_clear_error(client, shipped, buyer, name, content, code):
    txn = shipped()
    client.force_login(buyer)
    response = client.post(open_url(txn), {"reason": "defective", "description": "Rusak",
                                           "evidence": SimpleUploadedFile(name, content)}, follow=True)
    text = response.content.decode()
    assert name in text and ("is not a photo, video or PDF" in text or "does not match its content" in text)
    assert not Dispute.objects.exists() and not Evidence.objects.exists()


def test_oversized_image_is_refused(settings, disputed, buyer):
    settings.UPLOAD_MAX_BYTES = {**settings.UPLOAD_MAX_BYTES, "image": 100}
    dispute = disputed()
    with pytest.raises(services.DisputeError) as refused:
        services.dispute_post_message(dispute=dispute, author=buyer, body="foto", upload=image_upload(size=(64, 64)))
    assert refused.value.code == "file_size" and "too large" in refused.value.message


def test_oversized_video_and_document_limits_come_from_settings(settings, disputed, buyer):
    settings.UPLOAD_MAX_BYTES = {"image": 5 << 20, "video": 2048, "document": 10 << 20}
    dispute = disputed()
    services.dispute_post_message(dispute=dispute, author=buyer, body="video", upload=mp4_upload(size=1024),
                                  evidence_purpose="video")
    with pytest.raises(services.DisputeError, match="too large"):
        services.dispute_post_message(dispute=dispute, author=buyer, body="video", upload=mp4_upload(size=4096),
                                      evidence_purpose="video")
    services.dispute_post_message(dispute=dispute, author=buyer, body="resi", upload=pdf_upload(),
                                  evidence_purpose="courier_receipt")
    kinds = sorted(Evidence.objects.values_list("content_type", flat=True))
    assert kinds == ["application/pdf", "video/mp4"]


def test_upload_error_is_in_the_users_language(client, shipped, buyer):
    buyer.preferred_language = "id"
    buyer.save()
    txn = shipped()
    client.force_login(buyer)
    response = client.post(open_url(txn), {"reason": "defective", "description": "Rusak",
                                           "evidence": SimpleUploadedFile("a.exe", b"MZ" + b"\x00" * 64)},
                           follow=True, HTTP_ACCEPT_LANGUAGE="id")
    assert "a.exe" in response.content.decode()


def test_evidence_is_private_parties_and_permitted_staff_only(client, disputed, buyer, seller, stranger,
                                                              customer_service, dispute_officer):
    dispute = disputed()
    services.dispute_post_message(dispute=dispute, author=seller, body="Foto saat kirim", upload=image_upload())
    evidence = Evidence.objects.get()
    url = evidence.get_absolute_url()
    for user, status in ((buyer, 200), (seller, 200), (customer_service, 200), (stranger, 404),
                         (dispute_officer, 404)):  # staff without disputes.view_evidence
        client.force_login(user)
        if user.is_staff:  # staff say why before a file is served to them (privacy.access)
            client.post(reverse("privacy:staff_access", kwargs={"kind": "bukti", "pk": evidence.pk}),
                        {"reason": "Memeriksa foto untuk sengketa ini"})
        response = client.get(url)
        assert response.status_code == status, user
        if status == 200:
            assert b"".join(response.streaming_content) == png_bytes()
    client.logout()
    assert client.get(url).status_code == 302  # login first


def test_messages_thread_between_the_parties(client, disputed, buyer, seller):
    dispute = disputed()
    client.force_login(seller)
    client.post(reverse("disputes:message", kwargs={"reference": dispute.escrow_transaction.reference}),
                {"body": "Mohon kirim foto kemasan"})
    dispute.refresh_from_db()
    assert dispute.seller_replied_at is not None
    assert Notification.objects.filter(kind="dispute_message", recipient=buyer).exists()
    client.force_login(buyer)
    assert "Mohon kirim foto kemasan" in client.get(dispute.get_absolute_url()).content.decode()


def test_offer_reply_deadline_is_two_working_days_holiday_aware_and_shown_in_wib(client, disputed, seller):
    dispute = disputed()
    calendar = working_calendar()
    # Make the next working day a holiday: the deadline moves one working day further.
    holiday = calendar.next_working_day(wib_date(timezone.now()))
    CalendarOverride.objects.create(date=holiday, kind="holiday", name="Libur uji")
    offer = services.offer_propose(dispute=dispute, proposer=seller, outcome="split", buyer_amount=400_000,
                                   return_shipping_payer="seller", note="Setengah")
    calendar = working_calendar()
    assert abs(offer.respond_by - calendar.add_working_days(offer.created_at, 2)) < dt.timedelta(seconds=1)
    assert wib_date(offer.respond_by) > calendar.next_working_day(holiday)
    client.force_login(seller)
    page = client.get(dispute.get_absolute_url()).content.decode()
    assert "WIB" in page.split('data-testid="offer-respond-by">')[1].split("</span>")[0]


def test_accepted_split_offer_resolves_without_staff_and_keeps_the_ledger_green(client, disputed, buyer, seller):
    dispute = disputed()
    txn = dispute.escrow_transaction
    client.force_login(seller)
    client.post(reverse("disputes:propose", kwargs={"reference": txn.reference}),
                {"outcome": "split", "buyer_amount": "500.000", "return_shipping_payer": "none", "note": "Damai"})
    offer = SettlementOffer.objects.get()
    client.force_login(buyer)
    client.post(reverse("disputes:answer", kwargs={"reference": txn.reference, "pk": offer.pk,
                                                   "action": "terima"}))
    dispute.refresh_from_db()
    txn.refresh_from_db()
    assert dispute.status == Dispute.Status.RESOLVED and dispute.by_agreement and dispute.outcome == "split"
    assert dispute.resolved_by == buyer
    assert txn.status in (Status.CONFIRMED, Status.DISBURSED)
    event = txn.events.get(action="resolve_split")
    assert event.actor == buyer and event.data["by_agreement"] and event.data["accepted_by"] == buyer.full_name
    assert "accepted by Budi Pembeli" in event.reason
    balances = transaction_balances(escrow_transaction=txn)
    assert balances[AccountCategory.BUYER_REFUND_PAYABLE] == 500_000
    assert balances[AccountCategory.SELLER_PAYABLE] == txn.amount_received - 500_000 - txn.fee_amount
    request = RefundRequest.objects.get()
    assert request.amount == 500_000 and request.case == "settlement" and request.dispute == dispute
    payout = txn.payouts.get(purpose="seller_payout")
    assert payout.amount == txn.amount_received - 500_000 - txn.fee_amount


def test_accepted_release_offer_pays_the_seller(disputed, buyer, seller):
    dispute = disputed()
    offer = services.offer_propose(dispute=dispute, proposer=seller, outcome="release")
    services.offer_accept(offer=offer, user=buyer)
    txn = dispute.escrow_transaction
    txn.refresh_from_db()
    assert txn.status == Status.CONFIRMED
    assert transaction_balances(escrow_transaction=txn)[AccountCategory.SELLER_PAYABLE] == txn.seller_receives
    assert not RefundRequest.objects.exists()


def test_accepted_refund_offer_refunds_in_full(disputed, buyer, seller):
    dispute = disputed(reason="cancellation", description="Stok habis, saya tidak setuju ETD baru")
    offer = services.offer_propose(dispute=dispute, proposer=buyer, outcome="refund")
    services.offer_accept(offer=offer, user=seller)
    txn = dispute.escrow_transaction
    txn.refresh_from_db()
    assert txn.status == Status.REFUNDED
    request = RefundRequest.objects.get()
    assert request.case == "cancellation" and request.amount == scenarios.buyer_paid(txn)
    assert "accepted by Sari Penjual" in txn.events.get(action="refund").reason


def test_only_the_other_party_can_accept_an_offer(disputed, buyer, stranger):
    dispute = disputed()
    offer = services.offer_propose(dispute=dispute, proposer=buyer, outcome="refund")
    for user in (buyer, stranger):
        with pytest.raises(services.DisputeError):
            services.offer_accept(offer=offer, user=user)


def test_rejected_offer_keeps_the_dispute_open(disputed, buyer, seller):
    dispute = disputed()
    offer = services.offer_propose(dispute=dispute, proposer=buyer, outcome="refund")
    services.offer_reject(offer=offer, user=seller, note="Barang sudah dicek baik")
    dispute.refresh_from_db()
    offer.refresh_from_db()
    assert offer.status == "rejected" and dispute.status == Dispute.Status.OPEN
    assert Notification.objects.filter(kind="offer_rejected", recipient=buyer).exists()


def test_unanswered_offer_escalates_to_staff_by_the_beat_task(disputed, seller, buyer):
    dispute = disputed()
    offer = services.offer_propose(dispute=dispute, proposer=seller, outcome="release")
    assert tasks.escalate_overdue_disputes() == 0
    SettlementOffer.objects.filter(pk=offer.pk).update(respond_by=timezone.now() - dt.timedelta(minutes=1))
    assert tasks.escalate_overdue_disputes() == 1
    dispute.refresh_from_db()
    offer.refresh_from_db()
    assert dispute.status == Dispute.Status.ESCALATED and offer.status == "expired"
    assert Notification.objects.filter(kind="dispute_escalated", recipient=buyer).exists()
    with pytest.raises(services.DisputeError):
        services.offer_accept(offer=offer, user=buyer)
    assert tasks.escalate_overdue_disputes() == 0  # idempotent


def test_silent_seller_escalates_after_the_reply_deadline(disputed):
    dispute = disputed()
    Dispute.objects.filter(pk=dispute.pk).update(seller_reply_due_at=timezone.now() - dt.timedelta(minutes=1))
    assert tasks.escalate_overdue_disputes() == 1
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.ESCALATED
    assert dispute.staff_due_at == working_calendar().add_working_hours(dispute.escalated_at, 48)


def test_split_with_zero_to_the_buyer_is_a_release_and_fee_is_waived_beyond_the_seller_part(disputed, buyer,
                                                                                            dispute_officer):
    dispute = disputed()
    txn = dispute.escrow_transaction
    held = txn.amount_received
    services.dispute_resolve(dispute=dispute, staff=dispute_officer, outcome="split", buyer_amount=held - 1_000,
                             reason="Barang rusak sebagian")
    balances = transaction_balances(escrow_transaction=txn)
    assert balances[AccountCategory.BUYER_REFUND_PAYABLE] == held - 1_000
    assert balances.get(AccountCategory.SELLER_PAYABLE, 0) == 0
    txn.refresh_from_db()
    assert txn.status == Status.DISBURSED  # nothing owed to the seller


def test_delivered_digital_licence_is_refunded_only_when_the_seller_agrees(seller, buyer, dispute_officer):
    txn = scenarios.create(seller, buyer, category="digital", shipping_cost=0, is_licence_or_voucher=True)
    txn = scenarios.advance(txn, buyer, Status.VERIFIED)
    txn = txn_services.transaction_ship(escrow_transaction=txn, seller=seller, delivery_note="Lisensi: ABCD-1234")
    dispute = services.dispute_open(escrow_transaction=txn, buyer=buyer, reason="not_as_described",
                                    description="Lisensi bukan versi Pro")
    with pytest.raises(services.DisputeError) as refused:  # staff cannot impose a refund of a delivered licence
        services.dispute_resolve(dispute=dispute, staff=dispute_officer, outcome="refund", reason="Terbukti")
    assert refused.value.code == "excluded"
    offer = services.offer_propose(dispute=dispute, proposer=buyer, outcome="refund")
    services.offer_accept(offer=offer, user=seller)  # the seller agrees: never excluded
    txn.refresh_from_db()
    assert txn.status == Status.REFUNDED


def test_other_digital_goods_are_not_excluded(seller, buyer, dispute_officer):
    txn = scenarios.create(seller, buyer, category="digital", shipping_cost=0)  # an e-book file, say
    txn = scenarios.advance(txn, buyer, Status.VERIFIED)
    txn = txn_services.transaction_ship(escrow_transaction=txn, seller=seller, delivery_note="File PDF dikirim")
    dispute = services.dispute_open(escrow_transaction=txn, buyer=buyer, reason="not_as_described",
                                    description="File rusak")
    services.dispute_resolve(dispute=dispute, staff=dispute_officer, outcome="refund", reason="File tidak terbuka")
    txn.refresh_from_db()
    assert txn.status == Status.REFUNDED
