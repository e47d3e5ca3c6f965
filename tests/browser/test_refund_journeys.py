"""Refund journeys in the browser: each ends with the money at the buyer (the SendMe sandbox shows the
transfer), the buyer's page and PDF showing the amount, and ledger_check green."""
import io
import re

import pytest
from django.core.management import call_command
from pypdf import PdfReader

from escrow import services as escrow_services
from refunds import services as refund_services
from refunds import tasks as refund_tasks
from refunds.models import RefundRequest
from tests import scenarios
from tests.browser.test_journeys import login_cookie
from tests.disputes.conftest import _staff_in
from transactions.models import Status

pytestmark = pytest.mark.django_db(transaction=True)


def _pdf_text(body: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages))


def _rupiah(amount: int) -> str:
    return f"Rp {amount:,}".replace(",", ".")


def _buyer_adds_account_and_is_paid(person, sendme, txn, request, number):
    """On the refund page the buyer adds a bank account in their own name; SendMe pays it."""
    person.page.goto(f"/pengembalian-dana/{txn.reference}/")
    person.page.wait_for_selector("[data-testid=next-step]")
    person.page.select_option("select[name=bank-bank_code]", "014")
    person.page.fill("input[name=bank-account_number]", number)
    person.page.fill("input[name=bank-account_holder_name]", "Budi Pembeli")
    person.shot("refund-account-form")
    person.page.click("form:has(input[name=kind][value=bank]) button[type=submit]")
    person.page.wait_for_selector("[data-testid=refund-transfers]")
    refund_tasks.complete_paid_refunds()
    person.page.reload()
    person.shot("refunded")
    request.refresh_from_db()
    assert request.status == RefundRequest.Status.COMPLETED
    paid = [t for t in sendme.state()["transfers"] if t["account"] == number]
    assert [t["amount"] for t in paid] == [request.amount]  # the sandbox received exactly the refund
    text = person.page.inner_text("[data-testid=refund-transfers]").replace("\xa0", " ")  # Rp keeps its digits (no-break space)
    day = _day_of(request)
    assert _rupiah(request.amount) in text and number[-4:] in text and day in text
    receipt = person.page.request.get(f"/dokumen/{txn.reference}/kuitansi-pengembalian.pdf")
    pdf = _pdf_text(receipt.body())
    assert receipt.status == 200 and _rupiah(request.amount) in pdf and number[-4:] in pdf and day in pdf
    call_command("ledger_check")


def _day_of(request) -> str:
    """The WIB date the refund's transfer arrived, as the buyer's page and the receipt write it."""
    from django.utils import formats, translation

    from disbursements.models import Disbursement
    from intrasa.wib import to_wib

    arrived = Disbursement.objects.filter(payout=request.payout, status=Disbursement.Status.SUCCEEDED).get().completed_at
    with translation.override("id"):
        return formats.date_format(to_wib(arrived), "j F Y")


def test_seller_cancels_after_payment_and_the_buyer_gets_the_money(people, sendme, seller, buyer):
    sendme("account_register", number="7009991001", holder_name="BUDI PEMBELI")
    finance = _staff_in("Finance", "fani@intrasa.co.id", "Fani Keuangan")
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    escrow_services.escrow_cancel_and_refund(escrow_transaction=txn, actor=seller, reason="Stok habis")
    request = RefundRequest.objects.get()
    assert request.handler == finance  # a named person holds the next step
    refund_services.refund_approve(refund_request=request, actor=finance, reason="Dokumen lengkap, sesuai kebijakan")
    person = people("buyer", "id")
    person.context.add_cookies(login_cookie(buyer, person))
    person.page.goto(f"/transaksi/{txn.reference}/")
    assert "sedang diproses" in person.page.inner_text("[data-testid=status]")
    _buyer_adds_account_and_is_paid(person, sendme, txn, request, "7009991001")
    person.page.goto(f"/transaksi/{txn.reference}/")
    assert person.page.inner_text("[data-testid=status]").strip() == "Dana dikembalikan ke pembeli"


def test_a_double_bank_transfer_is_matched_by_finance_and_refunded(people, sendme, seller, buyer, tmp_path):
    from payments import services as payment_services

    sendme("account_register", number="7009991002", holder_name="BUDI PEMBELI")
    finance = _staff_in("Finance", "fani@intrasa.co.id", "Fani Keuangan")
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    bill = payment_services.payment_start(escrow_transaction=txn, buyer=buyer, channel_code="transfer")
    staff = people("finance", "id")
    staff.context.add_cookies(login_cookie(finance, staff))
    statement = tmp_path / "mutasi.csv"
    statement.write_text("date,description,amount,reference\n"
                         f"2026-11-23,TRSF CR BUDI,{bill.amount},BCA-901\n2026-11-24,TRSF CR BUDI,{bill.amount},BCA-902\n")
    staff.page.goto("/admin/payments/bankstatementline/import/")
    staff.page.set_input_files("input[type=file]", str(statement))
    staff.page.click("input[type=submit]")
    staff.page.wait_for_url("**/admin/payments/bankstatementline/")
    staff.page.click("a[href$='/match/']")
    staff.page.fill("input[name=reference]", txn.reference)
    staff.page.fill("textarea[name=reason]", "Mutasi pembeli menunjukkan dua transfer yang sama")
    staff.shot("match-line")
    staff.page.click("input[type=submit]")
    staff.page.wait_for_url("**/admin/payments/bankstatementline/")
    request = RefundRequest.objects.get()
    assert request.case == "double_payment" and request.amount == bill.amount
    refund_services.refund_approve(refund_request=request, actor=finance, reason="Dokumen lengkap, sesuai kebijakan")
    person = people("buyer", "id")
    person.context.add_cookies(login_cookie(buyer, person))
    _buyer_adds_account_and_is_paid(person, sendme, txn, request, "7009991002")
