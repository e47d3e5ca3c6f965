"""No dead ends: documents asked per case, staff waivers, a named staff task with a date for every
step INTRASA holds, status texts and receipts that tell the truth about the money."""
import datetime as dt
import html
import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import PayoutDestination
from disbursements.models import Disbursement
from disputes import services as dispute_services
from notifications.models import Notification
from refunds import policy, services, tasks
from refunds.models import RefundRequest
from refunds.policy import Document, StaffTask
from tests import scenarios
from transactions.models import Status
from workdays.calendar import working_calendar


@pytest.fixture(autouse=True)
def _books_balance():
    yield
    call_command("ledger_check")


def _refund(dispute, officer) -> RefundRequest:
    dispute_services.dispute_resolve(dispute=dispute, staff=officer, outcome="refund", reason="Terbukti")
    return RefundRequest.objects.get(escrow_transaction=dispute.escrow_transaction)


def _pdf_text(response) -> str:
    reader = PdfReader(io.BytesIO(response.content))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


# --- documents depend on the case ----------------------------------------------------------------

def test_return_documents_only_when_goods_come_back():
    assert policy.goods_come_back("return_seller_fault", shipped=True)
    assert not policy.goods_come_back("return_seller_fault", shipped=False)
    assert not policy.goods_come_back("return_seller_fault", shipped=True, return_agreed=False)
    assert not policy.goods_come_back("not_shipped", shipped=False)
    assert not policy.goods_come_back("not_received", shipped=True)
    assert Document.RETURN_RECEIPT not in policy.required_documents("return_seller_fault", goods_return=False)
    assert Document.RETURN_RECEIPT in policy.required_documents("return_seller_fault", goods_return=True)
    assert policy.who_supplies(Document.RMA_NUMBER) == "intrasa"
    assert policy.who_supplies(Document.RETURN_RECEIPT) == "buyer"


@pytest.mark.django_db
def test_buyer_whose_seller_never_shipped_is_not_asked_for_return_documents(client, seller, buyer, dispute_officer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)  # paid, never shipped
    dispute = dispute_services.dispute_open(escrow_transaction=txn, buyer=buyer, reason="defective",
                                            description="Penjual kirim foto barang rusak, tidak dikirim")
    request = _refund(dispute, dispute_officer)
    assert request.case == "return_seller_fault" and not request.goods_return
    assert request.status == RefundRequest.Status.IN_REVIEW  # nothing to ask the buyer
    assert not request.documents.filter(kind__in=[Document.RMA_NUMBER, Document.RETURN_RECEIPT]).exists()
    client.force_login(buyer)
    page = client.get(reverse("refunds:detail", kwargs={"reference": txn.reference})).content.decode()
    assert 'data-testid="missing-documents"' not in page and "Return courier receipt" not in page


@pytest.mark.django_db
def test_agreed_refund_where_the_buyer_keeps_the_goods_asks_no_return_documents(disputed, seller, buyer):
    dispute = disputed(reason="not_as_described", description="Warna beda")
    offer = dispute_services.offer_propose(dispute=dispute, proposer=seller, outcome="refund",
                                           return_shipping_payer="none")
    dispute_services.offer_accept(offer=offer, user=buyer)
    request = RefundRequest.objects.get()
    assert not request.goods_return and request.status == RefundRequest.Status.IN_REVIEW


@pytest.mark.django_db
def test_staff_waive_a_document_with_a_reason_and_the_buyer_sees_why(client, disputed, dispute_officer, officer,
                                                                     finance, buyer, customer_service):
    request = _refund(disputed(reason="defective", description="Mati total"), dispute_officer)
    assert services.missing_from_buyer(request) == [Document.RETURN_RECEIPT]
    with pytest.raises(services.RefundError) as refused:
        services.refund_document_waive(refund_request=request, kind=Document.RETURN_RECEIPT, actor=officer, reason=" ")
    assert refused.value.code == "reason_required"
    with pytest.raises(services.RefundError) as refused:
        services.refund_document_waive(refund_request=request, kind=Document.RETURN_RECEIPT, actor=buyer,
                                       reason="Saya tidak perlu")
    assert refused.value.code == "forbidden"
    with pytest.raises(services.RefundError) as refused:
        services.refund_document_waive(refund_request=request, kind=Document.ORDER_NUMBER, actor=officer,
                                       reason="Tidak perlu")
    assert refused.value.code == "not_missing"
    services.refund_document_waive(refund_request=request, kind=Document.RETURN_RECEIPT, actor=officer,
                                   reason="Penjual menolak barang kembali")
    services.refund_document_waive(refund_request=request, kind=Document.INSPECTION_RESULT, actor=officer,
                                   reason="Barang tidak dikembalikan, tidak ada yang diperiksa")
    request.refresh_from_db()
    assert request.status == RefundRequest.Status.IN_REVIEW
    client.force_login(buyer)
    page = client.get(reverse("refunds:detail", kwargs={"reference": request.escrow_transaction.reference}))
    assert "not needed (Penjual menolak barang kembali)" in page.content.decode()


# --- a named staff member with a date -------------------------------------------------------------

@pytest.mark.django_db
def test_verification_is_a_named_task_with_the_approval_deadline(client, seller, buyer, finance):
    from escrow import services as escrow_services

    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    escrow_services.escrow_cancel_and_refund(escrow_transaction=txn, actor=seller, reason="Stok habis")
    request = RefundRequest.objects.get()
    assert request.handler == finance and request.handler_task == StaffTask.VERIFY_AND_APPROVE
    assert request.handler_due_at == request.approval_due_at
    task_mail = Notification.objects.get(kind="refund_task", recipient=finance)
    assert txn.reference in task_mail.subject
    client.force_login(buyer)
    page = client.get(reverse("refunds:detail", kwargs={"reference": txn.reference})).content.decode()
    assert 'data-holder="intrasa"' in page and "Fani of INTRASA's finance team handles this" in page
    assert 'data-testid="next-step-due"' in page


@pytest.mark.django_db
def test_documents_the_buyer_never_sends_pass_to_staff_after_the_limit(seller, finance, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    request = services.refund_request_submit(escrow_transaction=txn, buyer=buyer, case="failed_payment",
                                             amount=100_000, description="Terpotong tapi gagal")
    step = services.refund_next_step(request)
    assert step.holder == "buyer" and "Bank or e-wallet statement" in step.text
    assert request.handler_task == ""
    calendar = working_calendar()
    stall = calendar.add_working_days(request.created_at, policy.DOCUMENTS_STALL_WORKING_DAYS)
    assert services.refund_tasks_refresh_all(now=stall - dt.timedelta(minutes=1)) == 0
    assert tasks.refresh_refund_tasks() == 0  # still the buyer's step today
    assert services.refund_tasks_refresh_all(now=stall + dt.timedelta(minutes=1)) == 1
    request.refresh_from_db()
    assert request.handler == finance and request.handler_task == StaffTask.HELP_WITH_DOCUMENTS
    assert request.handler_due_at == calendar.add_working_hours(stall, policy.STAFF_TASK_WORKING_HOURS)
    # Running again changes nothing and tells nobody twice.
    assert services.refund_tasks_refresh_all(now=stall + dt.timedelta(minutes=2)) == 0
    assert Notification.objects.filter(kind="refund_task", recipient=finance).count() == 1


@pytest.mark.django_db
def test_every_open_request_is_looked_at_however_many_are_open(seller, finance, buyer, monkeypatch):
    """The beat job looked at the 500 oldest open requests only: with more open, a newer request's
    stalled step never reached a named staff member. It now goes through all of them, a batch at a
    time (here batches of 2, for 3 requests)."""
    monkeypatch.setattr(services, "REFRESH_BATCH", 2)
    requests = []
    for _ in range(3):
        txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
        requests.append(services.refund_request_submit(escrow_transaction=txn, buyer=buyer, case="failed_payment",
                                                       amount=100_000, description="Terpotong tapi gagal"))
    latest = max(request.created_at for request in requests)
    stall = working_calendar().add_working_days(latest, policy.DOCUMENTS_STALL_WORKING_DAYS)
    assert services.refund_tasks_refresh_all(now=stall + dt.timedelta(minutes=1)) == 3
    assert all(task == StaffTask.HELP_WITH_DOCUMENTS
               for task in RefundRequest.objects.values_list("handler_task", flat=True))


@pytest.mark.django_db
def test_a_buyer_without_a_refund_account_is_chased_by_a_named_person(disputed, dispute_officer, finance, buyer):
    request = _refund(disputed(reason="not_received", description="Hilang"), dispute_officer)
    # The buyer has no account yet.
    services.refund_approve(refund_request=request, actor=finance, reason="Dokumen lengkap, sesuai kebijakan")
    request.refresh_from_db()
    assert request.payout.status == "awaiting_destination"
    assert Notification.objects.filter(kind="refund_needs_account", recipient=buyer).exists()
    # ...and is not told the money is "being transferred" while nothing can be sent.
    assert not Notification.objects.filter(kind="refund_approved", recipient=buyer).exists()
    step = services.refund_next_step(request)
    assert step.holder == "buyer" and request.handler_task == ""
    later = working_calendar().add_working_days(request.approved_at, policy.ACCOUNT_STALL_WORKING_DAYS)
    services.refund_tasks_refresh_all(now=later + dt.timedelta(hours=1))
    request.refresh_from_db()
    assert request.handler == finance and request.handler_task == StaffTask.GET_REFUND_ACCOUNT
    assert request.handler_due_at > later


@pytest.mark.django_db
def test_overdue_staff_tasks_reach_finance_with_the_holders_name(disputed, dispute_officer, finance, mailoutbox):
    request = _refund(disputed(reason="wrong_item", description="Salah"), dispute_officer)
    stall = working_calendar().add_working_days(request.created_at, policy.DOCUMENTS_STALL_WORKING_DAYS)
    services.refund_tasks_refresh_all(now=stall + dt.timedelta(minutes=1))
    mailoutbox.clear()
    assert services.refund_alert_overdue_approvals() == 0
    RefundRequest.objects.update(handler_due_at=timezone.now() - dt.timedelta(minutes=1))
    assert services.refund_alert_overdue_approvals() == 1
    [mail] = mailoutbox
    assert "Fani Keuangan" in mail.body and request.escrow_transaction.reference in mail.body


# --- status and receipt tell the truth --------------------------------------------------------------

@pytest.mark.django_db
def test_refunded_transaction_reads_refund_in_progress_until_the_transfer_succeeds(client, disputed,
                                                                                   dispute_officer, buyer):
    request = _refund(disputed(reason="not_received", description="Hilang"), dispute_officer)
    txn = request.escrow_transaction
    txn.refresh_from_db()
    assert txn.status == Status.REFUNDED and txn.status_label == "Refund to buyer in progress"
    client.force_login(buyer)
    page = client.get(txn.get_absolute_url()).content.decode()
    assert "Refund to buyer in progress" in page and "Refunded to buyer" not in page.split('data-testid="status"')[1][:80]
    assert "Refund to buyer in progress" in client.get(reverse("transactions:dashboard")).content.decode()
    receipt = _pdf_text(client.get(f"/dokumen/{txn.reference}/kuitansi-pengembalian.pdf"))
    # The PDF is in the buyer's language (Bahasa Indonesia).
    assert "Pengembalian dana sedang diproses" in receipt and "Belum ada transfer yang sampai" in receipt


@pytest.mark.django_db(transaction=True)
def test_buyer_adds_an_account_on_the_refund_page_and_the_receipt_shows_what_arrived(
        sendme, client, disputed, dispute_officer, finance, buyer):
    sendme("account_register", number="7009990077", holder_name="BUDI PEMBELI")
    dispute = disputed(reason="not_received", description="Paket tidak pernah sampai")
    txn = dispute.escrow_transaction
    request = _refund(dispute, dispute_officer)
    services.refund_approve(refund_request=request, actor=finance, reason="Dokumen lengkap, sesuai kebijakan")
    client.force_login(buyer)
    page = client.get(reverse("refunds:detail", kwargs={"reference": txn.reference})).content.decode()
    assert 'data-testid="add-refund-account"' in page and "Add bank account and use it" in page
    # The latest it arrives is promised (through the buyer's account step); the transfer's own window starts
    # only once the account is known (``refunds.policy.transfer_starts_at``), so no range from the approval.
    assert 'data-testid="refund-by"' in page and 'data-testid="transfer-window"' not in page
    # A bad account number is refused with a message and changes nothing.
    response = client.post(reverse("refunds:add_account", kwargs={"pk": request.pk}),
                           {"kind": "bank", "bank-bank_code": "014", "bank-account_number": "12",
                            "bank-account_holder_name": "Budi Pembeli"}, follow=True)
    assert response.status_code == 200 and not buyer.payout_destinations.exists()
    client.post(reverse("refunds:add_account", kwargs={"pk": request.pk}),
                {"kind": "bank", "bank-bank_code": "014", "bank-account_number": "7009990077",
                 "bank-account_holder_name": "Budi Pembeli"})
    destination = buyer.payout_destinations.get()
    assert destination.verification == PayoutDestination.Verification.VERIFIED
    request.refresh_from_db()
    assert request.destination == destination
    part = Disbursement.objects.get(payout=request.payout)
    assert part.status == Disbursement.Status.SUCCEEDED and part.amount == request.amount
    tasks.complete_paid_refunds()
    request.refresh_from_db()
    txn.refresh_from_db()
    assert request.status == RefundRequest.Status.COMPLETED and txn.status_label == "Refunded to buyer"
    page = client.get(reverse("refunds:detail", kwargs={"reference": txn.reference})).content.decode()
    assert 'data-testid="refund-transfers"' in page and "******0077" in page
    assert 'data-testid="transfer-window"' not in page  # it arrived: the day it did is shown, not an estimate
    receipt = _pdf_text(client.get(f"/dokumen/{txn.reference}/kuitansi-pengembalian.pdf"))
    assert "Dana dikembalikan ke pembeli" in receipt and "sedang diproses" not in receipt
    assert part.partner_reference_no in receipt and "******0077" in receipt
    amount = f"Rp {request.amount:,}".replace(",", ".")
    assert receipt.count(amount) >= 1
    day = timezone.localtime(part.completed_at).strftime("%d")
    assert day in receipt


@pytest.mark.django_db
def test_the_policy_page_says_per_method_where_the_money_goes(client):
    page = html.unescape(client.get(reverse("pages:refund_policy"), HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert 'data-testid="refund-routes"' in page
    for method, _route, why, _window in policy.refund_routes_table():
        assert str(method) in page and str(why) in page
    assert "returned to the same payment method" not in page
    assert {row[1] for row in policy.refund_routes_table()} == {str(policy.Route.SENDME_OWN_ACCOUNT.label)}
