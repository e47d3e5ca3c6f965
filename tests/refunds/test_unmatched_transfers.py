"""Unmatched bank-transfer money: booked to suspense the moment it is imported, matched by finance to
its payer with a reason, and refunded like any other money owed back."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from escrow import services as escrow_services
from ledger.checks import ledger_breaches
from ledger.models import AccountCategory, EntryKind, JournalEntry
from ledger.selectors import category_balance, transaction_balances
from payments import services as payment_services
from payments.models import BankStatementLine, Bill
from refunds import services
from refunds.models import RefundRequest
from refunds.policy import Document
from tests import scenarios
from tests.disbursements.conftest import verified_bank
from tests.payments.test_bank_transfer import csv_file
from transactions.models import Status


@pytest.fixture(autouse=True)
def _books_balance():
    yield
    call_command("ledger_check")




@pytest.fixture
def paid_twice(client, seller, buyer, finance):
    """A bank-transfer bill paid, then the same amount transferred a second time."""
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    bill = payment_services.payment_start(escrow_transaction=txn, buyer=buyer, channel_code="transfer")
    client.force_login(finance)
    url = reverse("admin:payments_statement_import")
    client.post(url, {"file": csv_file(f"2026-11-23,TRSF CR BUDI PEMBELI,{bill.amount},BCA-101")})
    client.post(url, {"file": csv_file(f"2026-11-24,TRSF CR BUDI PEMBELI,{bill.amount},BCA-102")})
    txn.refresh_from_db()
    return txn, bill, BankStatementLine.objects.get(bank_reference="BCA-102")


@pytest.mark.django_db
def test_an_unmatched_credit_is_booked_to_suspense_on_import(paid_twice):
    txn, bill, line = paid_twice
    assert txn.status == Status.VERIFIED and line.matched_bill is None and line.suspense_booked_at is not None
    assert category_balance(category=AccountCategory.UNMATCHED_SUSPENSE) == bill.amount
    assert category_balance(category=AccountCategory.ESCROW_BANK) == 2 * bill.amount
    assert JournalEntry.objects.filter(kind=EntryKind.SUSPENSE_RECEIVED).count() == 1
    assert not ledger_breaches()


@pytest.mark.django_db
def test_finance_match_it_to_the_payer_with_a_reason_and_it_is_refunded(client, paid_twice, finance, buyer):
    txn, bill, line = paid_twice
    url = reverse("admin:payments_statement_match", args=[line.pk])
    page = client.get(reverse("admin:payments_bankstatementline_changelist")).content.decode()
    assert url in page  # the suspense line offers the match
    # Without a reason, or with an unknown reference: nothing changes.
    client.post(url, {"reference": txn.reference, "reason": ""})
    response = client.post(url, {"reference": "INT-0000-0000-0000", "reason": "Mutasi pembeli"})
    assert "No transaction has this reference number." in response.content.decode()
    assert not RefundRequest.objects.exists()
    response = client.post(url, {"reference": txn.reference.lower(), "reason": "Mutasi BCA pembeli menunjukkan "
                                                                              "dua transfer"})
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.assigned_transaction == txn and line.assigned_by == finance and line.assigned_reason
    request = RefundRequest.objects.get()
    assert request.case == "double_payment" and request.amount == bill.amount and request.statement_line == line
    assert request.payment_family == "bank_transfer"
    assert request.status == RefundRequest.Status.IN_REVIEW  # INTRASA's own statement is the proof
    assert request.documents.filter(kind=Document.BANK_STATEMENT, source="system").exists()
    assert category_balance(category=AccountCategory.UNMATCHED_SUSPENSE) == 0
    assert transaction_balances(escrow_transaction=txn)[AccountCategory.BUYER_REFUND_PAYABLE] == bill.amount
    # Matching twice is refused.
    with pytest.raises(payment_services.StaffPaymentError) as refused:
        escrow_services.statement_line_match_and_refund(line_id=line.pk, reference=txn.reference, actor=finance,
                                                        reason="lagi")
    assert refused.value.code == "already_matched"
    # And it is paid like any other refund.
    verified_bank(buyer, number="7009990555")
    services.refund_approve(refund_request=request, actor=finance, reason="Dokumen lengkap, sesuai kebijakan")
    request.refresh_from_db()
    assert request.status == RefundRequest.Status.PAYING and request.payout.amount == bill.amount
    assert not ledger_breaches()


@pytest.mark.django_db
def test_only_finance_match_statement_lines(paid_twice, customer_service):
    txn, _bill, line = paid_twice
    with pytest.raises(payment_services.StaffPaymentError) as refused:
        escrow_services.statement_line_match_and_refund(line_id=line.pk, reference=txn.reference,
                                                        actor=customer_service, reason="x")
    assert refused.value.code == "forbidden"
    line.refresh_from_db()
    assert line.assigned_transaction is None


@pytest.mark.django_db
def test_a_line_imported_before_suspense_existed_is_booked_when_matched(seller, buyer, finance):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    line = BankStatementLine.objects.create(booked_on="2026-11-20", description="CR LAMA", amount=150_000,
                                            bank_reference="OLD-1", imported_by=finance)
    bills = Bill.objects.count()
    escrow_services.statement_line_match_and_refund(line_id=line.pk, reference=txn.reference, actor=finance,
                                                    reason="Bukti transfer pembeli")
    assert category_balance(category=AccountCategory.UNMATCHED_SUSPENSE) == 0
    assert RefundRequest.objects.get().amount == 150_000
    assert Bill.objects.count() == bills  # no bill was invented


@pytest.mark.django_db
def test_the_buyers_own_failed_payment_request_is_the_one_the_matched_money_pays(client, seller, buyer, finance):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    client.force_login(buyer)
    client.post(reverse("refunds:detail", kwargs={"reference": txn.reference}),
                {"case": "failed_payment", "amount": "150.000", "description": "Terpotong tapi gagal"})
    asked = RefundRequest.objects.get()
    with pytest.raises(services.RefundError):  # nothing owed in the ledger yet
        services.refund_approve(refund_request=asked, actor=finance, reason="Dokumen lengkap, sesuai kebijakan")
    line = BankStatementLine.objects.create(booked_on="2026-11-25", description="CR BUDI", amount=150_000,
                                            bank_reference="BCA-777", imported_by=finance)
    matched = escrow_services.statement_line_match_and_refund(line_id=line.pk, reference=txn.reference,
                                                              actor=finance, reason="Mutasi pembeli cocok")
    assert matched.pk == asked.pk and RefundRequest.objects.count() == 1
    matched.refresh_from_db()
    assert matched.statement_line == line and matched.status == RefundRequest.Status.IN_REVIEW
    verified_bank(buyer, number="7009990666")
    services.refund_approve(refund_request=matched, actor=finance, reason="Dokumen lengkap, sesuai kebijakan")
    matched.refresh_from_db()
    assert matched.status == RefundRequest.Status.PAYING
