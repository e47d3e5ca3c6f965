"""Failed but charged (refunds.policy): the buyer proves a debit INTRASA never recorded; Finance book it
from INTRASA's bank statement or Faspay's report, with a reason and the evidence; then it is refunded
like any other money owed back — never approved while it is not in the books."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from audit.models import AuditEntry
from ledger.models import AccountCategory
from ledger.selectors import category_balance, transaction_balances
from payments.models import BankStatementLine, Bill
from refunds import services
from refunds.models import RefundRequest
from refunds.policy import Document, StaffTask
from tests import scenarios
from tests.disbursements.conftest import verified_bank
from tests.disputes.conftest import pdf_upload
from tests.payments.test_bank_transfer import csv_file
from transactions.models import Status, TransactionEvent


@pytest.fixture(autouse=True)
def _books_balance():
    yield
    call_command("ledger_check")




def _buyer_reports(client, txn, buyer, amount: str) -> RefundRequest:
    """The buyer asks from the refund page and uploads the statement that shows the debit."""
    client.force_login(buyer)
    url = reverse("refunds:detail", kwargs={"reference": txn.reference})
    client.post(url, {"case": "failed_payment", "amount": amount, "description": "Transfer gagal tapi saldo terpotong"})
    request = RefundRequest.objects.get(escrow_transaction=txn, requested_by=buyer)
    client.post(reverse("refunds:add_document", kwargs={"pk": request.pk}),
                {"kind": "bank_statement", "file": pdf_upload("mutasi-rekening.pdf")})
    request.refresh_from_db()
    return request


@pytest.mark.django_db
def test_a_debit_on_the_bank_statement_is_booked_by_finance_and_refunded(client, seller, buyer, finance):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    # The buyer's failed attempt reached INTRASA's account anyway: a credit no bill claims (suspense).
    client.force_login(finance)
    client.post(reverse("admin:payments_statement_import"), {"file": csv_file("2026-11-24,TRSF CR BUDI PEMBELI,150000,BCA-777")})
    line = BankStatementLine.objects.get(bank_reference="BCA-777")
    assert line.suspense_booked_at is not None
    request = _buyer_reports(client, txn, buyer, "150.000")
    statement = request.documents.get(kind=Document.BANK_STATEMENT, source="buyer")
    assert statement.sha256 and statement.content_type == "application/pdf"  # re-encoded by intrasa.uploads
    assert request.status == RefundRequest.Status.IN_REVIEW
    assert request.handler == finance and request.handler_task == StaffTask.BOOK_CHARGE
    with pytest.raises(services.RefundError) as refused:
        services.refund_approve(refund_request=request, actor=finance, reason="Mutasi cocok")
    assert refused.value.code == "charge_not_booked"
    # Finance book it through the admin action, with the reason.
    client.force_login(finance)
    response = client.post(reverse("admin:refunds_refundrequest_changelist"), {
        "action": "book_charge", "_selected_action": [request.pk], "apply": "1", "source": "statement",
        "statement_line": line.pk, "reason": "Mutasi pembeli dan rekening escrow sama: BCA-777, Rp 150.000"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.statement_line == line and request.charge_source == "statement" and request.charge_booked_by == finance
    assert request.amount == 150_000 and request.handler_task == StaffTask.VERIFY_AND_APPROVE
    assert transaction_balances(escrow_transaction=txn)[AccountCategory.BUYER_REFUND_PAYABLE] == 150_000
    assert category_balance(category=AccountCategory.UNMATCHED_SUSPENSE) == 0
    assert AuditEntry.objects.filter(action="refund.charge_booked", actor=finance).exists()
    assert TransactionEvent.objects.filter(escrow_transaction=txn, action="refund_charge_booked").exists()
    verified_bank(buyer, number="7009991234")
    services.refund_approve(refund_request=request, actor=finance, reason="Dokumen lengkap, dana tercatat")
    request.refresh_from_db()
    assert request.payout.amount == 150_000


@pytest.mark.django_db
def test_a_charge_on_faspays_report_is_booked_on_its_bill_with_the_report_attached(client, seller, buyer, finance):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    # An earlier VA bill INTRASA saw expire; Faspay's report shows it was paid after all.
    bill = Bill.objects.create(escrow_transaction=txn, method="va", channel_code="702", bill_no="INTFAILED0001",
                               amount=txn.amount_due, status=Bill.Status.EXPIRED, expires_at=txn.created_at)
    request = _buyer_reports(client, txn, buyer, "100.000")
    with pytest.raises(services.RefundError) as refused:
        services.refund_charge_book(refund_request=request, actor=finance, source="provider", reason="",
                                    bill_id=bill.pk, amount=txn.amount_due, reference="9912")
    assert refused.value.code == "reason_required"
    with pytest.raises(services.RefundError) as refused:
        services.refund_charge_book(refund_request=request, actor=finance, source="provider", reason="Laporan Faspay",
                                    bill_id=bill.pk, amount=txn.amount_due, reference="abc")
    assert refused.value.code == "trx_id_required"
    services.refund_charge_book(refund_request=request, actor=finance, source="provider",
                                reason="Laporan transaksi Faspay 24/11: trx 88001 terbayar", bill_id=bill.pk,
                                amount=txn.amount_due, reference="88001", report=pdf_upload("laporan-faspay.pdf"))
    request.refresh_from_db()
    bill.refresh_from_db()
    assert bill.status == Bill.Status.VERIFIED and bill.flag == Bill.Flag.DOUBLE and bill.provider_trx_id == "88001"
    # The request carries exactly what the books now owe: the amount Faspay collected.
    assert request.bill == bill and request.amount == txn.amount_due and request.charge_reference == "88001"
    report = request.documents.get(kind=Document.BANK_STATEMENT, source="staff")
    assert report.file and report.sha256 and "88001" in report.value
    assert RefundRequest.objects.filter(escrow_transaction=txn).count() == 1  # no second request for it
    assert transaction_balances(escrow_transaction=txn)[AccountCategory.BUYER_REFUND_PAYABLE] == txn.amount_due
    # Booking twice is refused.
    with pytest.raises(services.RefundError) as refused:
        services.refund_charge_book(refund_request=request, actor=finance, source="provider", reason="lagi",
                                    bill_id=bill.pk, amount=txn.amount_due, reference="88001")
    assert refused.value.code == "not_awaiting_charge"


@pytest.mark.django_db
def test_a_charge_that_would_fund_the_transaction_is_not_booked_as_a_refund(client, seller, buyer, finance):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    bill = Bill.objects.create(escrow_transaction=txn, method="va", channel_code="702", bill_no="INTFAILED0002",
                               amount=txn.amount_due, status=Bill.Status.EXPIRED, expires_at=txn.created_at)
    request = _buyer_reports(client, txn, buyer, "100.000")
    with pytest.raises(services.RefundError) as refused:
        services.refund_charge_book(refund_request=request, actor=finance, source="provider", reason="Laporan",
                                    bill_id=bill.pk, amount=txn.amount_due, reference="88002")
    assert refused.value.code == "would_fund"
    bill.refresh_from_db()
    assert bill.status == Bill.Status.EXPIRED  # nothing changed


@pytest.mark.django_db
def test_only_finance_book_and_only_with_the_buyers_evidence(client, seller, buyer, finance, dispute_officer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    request = services.refund_request_submit(escrow_transaction=txn, buyer=buyer, case="failed_payment",
                                             amount=50_000, description="Gagal tapi terpotong")
    with pytest.raises(services.RefundError) as refused:
        services.refund_charge_book(refund_request=request, actor=dispute_officer, source="statement", reason="x",
                                    statement_line_id=1)
    assert refused.value.code == "forbidden"
    with pytest.raises(services.RefundError) as refused:
        services.refund_charge_book(refund_request=request, actor=finance, source="statement", reason="Mutasi",
                                    statement_line_id=1)
    assert refused.value.code == "evidence_missing"


@pytest.mark.django_db
def test_a_failed_payment_the_buyer_reported_keeps_its_own_wording(client, in_english, seller, buyer):
    """Only the payments INTRASA itself found short or late get their sentence: a charge the buyer reported
    reads as the seed's category, with the buyer's own chronology."""
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    _buyer_reports(in_english, txn, buyer, "150.000")
    html = in_english.get(reverse("refunds:detail", kwargs={"reference": txn.reference})).content.decode()
    card = html.split('data-testid="refund-request"')[1].split("</section>")[0]
    assert "Failed payment that was charged" in card
    assert 'data-testid="refund-explained"' not in card and "less than" not in card
