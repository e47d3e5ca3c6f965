"""The refund engine: requests from every source, documents, approval, and payment through SendMe."""
import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import PayoutDestination
from disbursements.models import Disbursement, Payout
from disputes import services as dispute_services
from escrow import services as escrow_services
from ledger.models import AccountCategory, JournalEntry
from ledger.selectors import transaction_balances
from notifications.models import Notification
from payments.models import Bill
from refunds import policy, selectors, services, tasks
from refunds.models import RefundDocument, RefundRequest
from refunds.policy import Document
from refunds.services import refund_request_for_owed_payment
from tests import scenarios
from tests.disbursements.conftest import verified_bank
from tests.disputes.conftest import image_upload, pdf_upload
from tests.factories import BankDestinationFactory
from transactions.models import Status
from workdays.calendar import working_calendar


@pytest.fixture(autouse=True)
def _books_balance():
    yield
    call_command("ledger_check")


def refund_request_for(dispute, officer):
    dispute_services.dispute_resolve(dispute=dispute, staff=officer, outcome="refund", reason="Terbukti")
    return RefundRequest.objects.get(escrow_transaction=dispute.escrow_transaction)


@pytest.mark.django_db
def test_seller_cancellation_after_payment_starts_a_cancellation_refund(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    escrow_services.escrow_cancel_and_refund(escrow_transaction=txn, actor=seller, reason="Stok habis")
    request = RefundRequest.objects.get()
    assert request.case == "cancellation" and request.amount == scenarios.buyer_paid(txn)
    assert request.status == RefundRequest.Status.IN_REVIEW
    assert request.approval_due_at is not None
    kinds = set(request.documents.values_list("kind", flat=True))
    assert kinds == {Document.ORDER_NUMBER, Document.PROOF_OF_PAYMENT}


@pytest.mark.django_db
def test_double_payment_signal_creates_a_double_payment_request_with_the_providers_proof(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    bill = Bill.objects.create(escrow_transaction=txn, method="va", channel_code="702", bill_no="INTDOUBLE0001",
                               amount=txn.amount_due, status=Bill.Status.VERIFIED, flag=Bill.Flag.DOUBLE,
                               expires_at=txn.created_at, paid_amount=txn.amount_due)
    from django.db import transaction

    from ledger.models import EntryKind
    from ledger.services import credit, debit, entry_post

    with transaction.atomic():
        entry_post(idempotency_key="test-double", kind=EntryKind.PAYMENT_UNMATCHED, memo="double", escrow_transaction=txn,
                   lines=[debit(AccountCategory.PROVIDER_CLEARING, bill.amount),
                          credit(AccountCategory.BUYER_REFUND_PAYABLE, bill.amount)])
        refund_request_for_owed_payment(escrow_transaction=txn, bill=bill, amount=bill.amount, why="double")
        refund_request_for_owed_payment(escrow_transaction=txn, bill=bill, amount=bill.amount, why="double")
    request = RefundRequest.objects.get()  # once, however often the flow asks
    assert request.case == "double_payment" and request.bill == bill and request.payment_family == "va"
    assert request.status == RefundRequest.Status.IN_REVIEW
    assert request.documents.filter(kind=Document.BANK_STATEMENT, source="system").exists()


@pytest.mark.django_db
def test_request_missing_a_document_cannot_be_approved_and_says_which(disputed, dispute_officer, finance, buyer):
    dispute = disputed(reason="defective", description="Mati total")
    request = refund_request_for(dispute, dispute_officer)
    assert request.status == RefundRequest.Status.AWAITING_DOCUMENTS
    with pytest.raises(services.RefundError) as refused:
        services.refund_approve(refund_request=request, actor=finance, reason="Dokumen lengkap dan sesuai")
    assert refused.value.code == "documents_missing"
    assert "Return courier receipt" in refused.value.message and "Inspection result" in refused.value.message
    # INTRASA issues the RMA number itself as it authorises the return: nobody asks the buyer for it.
    assert "RMA" not in refused.value.message
    rma = request.documents.get(kind=Document.RMA_NUMBER)
    assert rma.source == "system" and rma.value == f"RMA-{dispute.escrow_transaction.reference}-{request.pk}"
    notice = Notification.objects.get(kind="refund_requested", recipient=buyer)
    assert "Return courier receipt" in notice.body and "Inspection result" not in notice.body
    assert "RMA" not in notice.body and "0813-9800-9700" in notice.body


@pytest.mark.django_db
def test_buyer_adds_return_documents_from_the_website_and_staff_record_the_inspection(
        client, disputed, dispute_officer, officer, finance, buyer):
    dispute = disputed(reason="wrong_item", description="Warna beda")
    request = refund_request_for(dispute, dispute_officer)
    client.force_login(buyer)
    url = reverse("refunds:add_document", kwargs={"pk": request.pk})
    client.post(url, {"kind": "rma_number", "value": "RMA-7788"})  # issued by INTRASA, not typed by the buyer
    assert not request.documents.filter(kind="rma_number", source="buyer").exists()
    with pytest.raises(services.RefundError) as refused:
        services.refund_document_add(refund_request=request, kind="rma_number", actor=buyer, value="RMA-7788")
    assert refused.value.code == "forbidden"
    # A return's receipt is the courier and number of the goods sent back (refunds.policy: returns).
    response = client.post(url, {"kind": "return_receipt", "file": pdf_upload()}, follow=True)
    assert "Enter the courier and receipt number" in response.content.decode()
    client.post(reverse("refunds:return_ship", kwargs={"pk": request.pk}), {"courier": "jne", "receipt_number": "JNE1"})
    response = client.post(url, {"kind": "proof_of_payment", "file": image_upload("x.pdf")}, follow=True)
    assert "does not match its content" in response.content.decode()
    with pytest.raises(services.RefundError):
        services.refund_document_add(refund_request=request, kind="inspection_result", actor=buyer, value="OK")
    services.refund_document_add(refund_request=request, kind="inspection_result", actor=officer,
                                 value="Barang diterima kembali, salah warna terkonfirmasi")
    request.refresh_from_db()
    assert request.status == RefundRequest.Status.IN_REVIEW and request.approval_due_at
    doc = request.documents.get(kind="return_receipt")
    assert doc.value == "JNE JNE1" and doc.uploaded_by == buyer
    page = client.get(reverse("refunds:detail", kwargs={"reference": request.escrow_transaction.reference}))
    assert 'data-testid="approval-due"' in page.content.decode()


@pytest.mark.django_db
def test_only_finance_approves_refunds(disputed, dispute_officer, customer_service):
    dispute = disputed(reason="not_received", description="Hilang")
    request = refund_request_for(dispute, dispute_officer)
    for user in (dispute_officer, customer_service):
        with pytest.raises(services.RefundError) as refused:
            services.refund_approve(refund_request=request, actor=user, reason="Dokumen lengkap dan sesuai")
        assert refused.value.code == "forbidden"


@pytest.mark.django_db
def test_refund_page_shows_whatsapp_link_timelines_and_documents(client, disputed, dispute_officer, buyer, stranger):
    dispute = disputed(reason="not_received", description="Hilang")
    request = refund_request_for(dispute, dispute_officer)
    client.force_login(buyer)
    page = client.get(reverse("refunds:detail", kwargs={"reference": request.escrow_transaction.reference}))
    text = page.content.decode()
    assert f"https://wa.me/6281398009700?text=Refund%20%E2%80%93%20{request.escrow_transaction.reference}" in text
    # The windows of the methods INTRASA offers (``policy.refund_routes_table``), none of another method.
    for _method, _route, _why, (low, high) in policy.refund_routes_table():
        assert f"{low}–{high}" in text
    assert 'data-testid="refund-status"' in text
    client.force_login(stranger)
    assert client.get(reverse("refunds:detail", kwargs={"reference": request.escrow_transaction.reference})
                      ).status_code == 404


@pytest.mark.django_db
def test_buyer_asks_for_a_failed_payment_refund_from_the_website(client, seller, buyer, finance):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    client.force_login(buyer)
    url = reverse("refunds:detail", kwargs={"reference": txn.reference})
    client.post(url, {"case": "failed_payment", "amount": "150.000", "description": "Terpotong dua kali di ATM"})
    request = RefundRequest.objects.get()
    assert request.case == "failed_payment" and request.amount == 150_000
    assert request.status == RefundRequest.Status.AWAITING_DOCUMENTS
    client.post(reverse("refunds:add_document", kwargs={"pk": request.pk}),
                {"kind": "bank_statement", "file": pdf_upload("mutasi.pdf")})
    request.refresh_from_db()
    assert request.status == RefundRequest.Status.IN_REVIEW
    # Nothing is in the books yet: finance must first book the charge (statement or Faspay's report).
    assert request.handler == finance and request.handler_task == "charge"
    with pytest.raises(services.RefundError) as refused:
        services.refund_approve(refund_request=request, actor=finance, reason="Dokumen lengkap dan sesuai")
    assert refused.value.code == "charge_not_booked"


@pytest.mark.django_db(transaction=True)
def test_refund_paid_end_to_end_through_the_sendme_sandbox(sendme, client, disputed, dispute_officer, finance,
                                                          buyer, seller):
    sendme("account_register", number="7009990001", holder_name="BUDI PEMBELI")
    verified_bank(buyer, number="7009990001")
    dispute = disputed(reason="not_received", description="Paket tidak pernah sampai")
    txn = dispute.escrow_transaction
    request = refund_request_for(dispute, dispute_officer)
    services.refund_approve(refund_request=request, actor=finance, reason="Dokumen lengkap dan sesuai")
    request.refresh_from_db()
    part = Disbursement.objects.get(payout=request.payout)
    assert part.status == Disbursement.Status.SUCCEEDED and part.amount == scenarios.buyer_paid(txn)
    earliest, latest = policy.transfer_arrives_between(selectors.refund_transfer_starts_at(request),
                                                       request.payment_family, working_calendar())
    assert request.payout.purpose == Payout.Purpose.BUYER_REFUND and latest > earliest
    assert request.payout.due_at == latest  # the payout queue orders it by its own timeline
    assert tasks.complete_paid_refunds() == 1
    request.refresh_from_db()
    txn.refresh_from_db()
    assert request.status == RefundRequest.Status.COMPLETED and txn.status == Status.REFUNDED
    assert transaction_balances(escrow_transaction=txn).get(AccountCategory.BUYER_REFUND_PAYABLE, 0) == 0
    assert JournalEntry.objects.filter(kind="refund_sent", escrow_transaction=txn).count() == 1
    assert [t["partner_reference_no"] for t in sendme.state()["transfers"]] == [part.partner_reference_no]
    for party in (buyer, seller):
        assert Notification.objects.filter(kind="refund_completed", recipient=party).exists()
    client.force_login(buyer)
    receipt = client.get(f"/dokumen/{txn.reference}/kuitansi-pengembalian.pdf")
    assert receipt.status_code == 200 and receipt["Content-Type"] == "application/pdf"
    call_command("ledger_check")


@pytest.mark.django_db(transaction=True)
def test_split_refund_and_seller_payout_both_paid_through_the_sandbox(sendme, disputed, dispute_officer, finance,
                                                                     buyer, seller):
    verified_bank(seller, number="7001112223")
    sendme("account_register", number="7001112223", holder_name="SARI PENJUAL")
    sendme("account_register", number="7009990002", holder_name="BUDI PEMBELI")
    verified_bank(buyer, number="7009990002")
    dispute = disputed(reason="not_as_described", description="Ukuran beda")
    offer = dispute_services.offer_propose(dispute=dispute, proposer=seller, outcome="split", buyer_amount=400_000)
    dispute_services.offer_accept(offer=offer, user=buyer)
    txn = dispute.escrow_transaction
    txn.refresh_from_db()
    assert txn.status == Status.DISBURSED  # the seller's part went out at once
    request = RefundRequest.objects.get()
    services.refund_approve(refund_request=request, actor=finance, reason="Dokumen lengkap dan sesuai")
    tasks.complete_paid_refunds()
    request.refresh_from_db()
    assert request.status == RefundRequest.Status.COMPLETED
    balances = transaction_balances(escrow_transaction=txn)
    assert balances.get(AccountCategory.BUYER_REFUND_PAYABLE, 0) == 0 and balances.get(AccountCategory.SELLER_PAYABLE, 0) == 0
    call_command("ledger_check")


@pytest.mark.django_db(transaction=True)
def test_substitute_account_must_be_verified_in_the_buyers_name(sendme, disputed, dispute_officer, buyer):
    dispute = disputed(reason="not_received", description="Hilang")
    request = refund_request_for(dispute, dispute_officer)
    other = BankDestinationFactory(owner=buyer, account_number="1212121212", account_holder_name=buyer.full_name,
                                   is_default=False)
    with pytest.raises(services.RefundError) as refused:
        services.refund_choose_destination(refund_request=request, buyer=buyer, destination=other)
    assert refused.value.code == "name_mismatch" and "PT NAMA LAIN SEKALI" in refused.value.message
    other.refresh_from_db()
    assert other.verification == PayoutDestination.Verification.NAME_MISMATCH
    sendme("account_register", number="7009990003", holder_name="BUDI PEMBELI")
    good = BankDestinationFactory(owner=buyer, account_number="7009990003", account_holder_name=buyer.full_name)
    services.refund_choose_destination(refund_request=request, buyer=buyer, destination=good)
    request.refresh_from_db()
    assert request.destination == good


@pytest.mark.django_db
def test_refund_admin_approve_and_reject_actions(client, disputed, dispute_officer, finance, shipped, buyer):
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

    changelist = reverse("admin:refunds_refundrequest_changelist")
    first = refund_request_for(disputed(reason="not_received", description="Hilang"), dispute_officer)
    txn = shipped()
    second_dispute = dispute_services.dispute_open(escrow_transaction=txn, buyer=buyer, reason="defective",
                                                   description="Mati")
    second = refund_request_for(second_dispute, dispute_officer)
    client.force_login(finance)
    # One click only shows what would be sent: nothing is approved, no payout is planned.
    page = client.post(changelist, {"action": "approve", ACTION_CHECKBOX_NAME: [first.pk, second.pk]})
    assert page.status_code == 200 and "Return courier receipt" in page.content.decode()  # what the second lacks
    assert not Payout.objects.filter(purpose=Payout.Purpose.BUYER_REFUND).exists()
    response = client.post(changelist, {"action": "approve", ACTION_CHECKBOX_NAME: [first.pk, second.pk],
                                        "apply": "1", "reason": "Paket hilang, dokumen lengkap"}, follow=True)
    text = response.content.decode()
    assert "Return courier receipt" in text  # the second one says which documents are missing
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == RefundRequest.Status.PAYING and first.approved_by == finance
    assert second.status == RefundRequest.Status.AWAITING_DOCUMENTS
    # The second one's money is owed to the buyer in the ledger (the dispute was decided): it cannot be
    # rejected and left there (refunds.policy: rejections); it waits for its documents.
    response = client.post(changelist, {"action": "reject", ACTION_CHECKBOX_NAME: [second.pk], "apply": "1",
                                        "reason": "Barang tidak dikembalikan"}, follow=True)
    assert "cannot be rejected" in response.content.decode()
    second.refresh_from_db()
    assert second.status == RefundRequest.Status.AWAITING_DOCUMENTS and second.closed_by is None
    assert RefundDocument.objects.filter(request=first).count() == 2  # goods not returned: no RMA


@pytest.mark.django_db
def test_finance_is_told_when_a_refund_passes_the_approval_time(seller, buyer, finance, mailoutbox):
    import datetime as dt

    from django.utils import timezone

    from refunds.tasks import alert_overdue_approvals

    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    escrow_services.escrow_cancel_and_refund(escrow_transaction=txn, actor=seller, reason="Stok habis")
    assert alert_overdue_approvals() == 0 and not mailoutbox  # within 2×24 working hours
    RefundRequest.objects.update(approval_due_at=timezone.now() - dt.timedelta(minutes=1))
    mailoutbox.clear()
    assert alert_overdue_approvals() == 1
    [mail] = mailoutbox
    assert mail.to == [finance.email] and txn.reference in mail.body
