"""Buyer protection journeys in the browser (issue 15): a non-defect return with the seller's restocking
fee, a seller-fault return with return shipping paid, a short shipment, and a failed-but-charged debit.
Each ends with the money at the buyer — the SendMe sandbox received exactly that transfer — the buyer's
page and refund receipt PDF showing the amount and date, and ``ledger_check`` green
(``refund_steps.buyer_adds_account_and_is_paid``). Phones (390×844) take the parties' steps; Finance works on a desktop."""
import pytest

from disputes import services as dispute_services
from refunds import services as refund_services
from refunds.models import RefundRequest, ReturnShipment
from tests import scenarios
from tests.browser.conftest import check_page
from tests.browser.refund_steps import buyer_adds_account_and_is_paid, buyer_opens_dispute, rupiah, signed_in
from tests.disputes.conftest import _staff_in
from transactions.models import Status

pytestmark = pytest.mark.django_db(transaction=True)


def _return_goes_back(seller_person, buyer_person, txn, request):
    """The return on phones: the seller gives the address, the buyer ships and enters the receipt, the
    seller records the inspection. The refund is then INTRASA's to approve."""
    url = f"/pengembalian-dana/{txn.reference}/"
    seller_person.page.goto(url)
    rma = seller_person.page.inner_text("[data-testid=rma-number]")
    assert rma == request.return_shipment.rma_number
    assert seller_person.page.get_attribute("[data-testid=next-step]", "data-holder") == "seller"
    seller_person.page.fill("[data-testid=return-address-form] textarea[name=address]",
                            "Toko Meja Jati, Jl. Melati 5, Bandung 40111, 0812-1111-2222")
    check_page(seller_person, "return-address")
    seller_person.page.click("[data-testid=return-address-form] button[type=submit]")
    seller_person.page.wait_for_selector("[data-testid=return-address]")

    buyer_person.page.goto(url)
    assert "Jl. Melati 5" in buyer_person.page.inner_text("[data-testid=return-address]")
    assert buyer_person.page.inner_text("[data-testid=return-ship-by]")
    buyer_person.page.select_option("[data-testid=return-ship-form] select[name=courier]", "jne")
    buyer_person.page.fill("[data-testid=return-ship-form] input[name=receipt_number]", "JNE0098765432")
    check_page(buyer_person, "return-ship")
    buyer_person.page.click("[data-testid=return-ship-form] button[type=submit]")
    buyer_person.page.wait_for_selector("[data-testid=return-receipt]")
    assert "JNE0098765432" in buyer_person.page.inner_text("[data-testid=return-receipt]")

    seller_person.page.goto(url)
    seller_person.page.check("[data-testid=record-inspection] input[name=result][value=accepted]")
    seller_person.page.fill("[data-testid=record-inspection] textarea[name=note]", "Barang kembali utuh, segel baik")
    check_page(seller_person, "inspection")
    seller_person.page.click("[data-testid=record-inspection] button[type=submit]")
    seller_person.page.wait_for_selector("[data-testid=inspection-result]")
    request.refresh_from_db()
    assert request.status == RefundRequest.Status.IN_REVIEW
    assert request.return_shipment.status == ReturnShipment.Status.ACCEPTED


def test_a_non_defect_return_refunds_the_item_less_the_restocking_fee(people, sendme, seller, buyer):
    sendme("account_register", number="7009992001", holder_name="BUDI PEMBELI")
    finance = _staff_in("Finance", "fani@intrasa.co.id", "Fani Keuangan")
    txn = scenarios.advance(scenarios.create(seller, buyer, accepts_returns=True, restocking_fee_basis_points=1_000),
                            buyer, Status.SHIPPED)
    buyer_person = signed_in(people, buyer, "buyer")
    buyer_opens_dispute(buyer_person, txn, "return_no_defect", "Ukuran tidak cocok, barang sesuai deskripsi")
    buyer_person.page.wait_for_selector("[data-testid=dispute-status]")

    seller_person = signed_in(people, seller, "seller")
    seller_person.page.goto(f"/sengketa/{txn.reference}/")
    seller_person.page.click("[data-testid=accept-return]")
    seller_person.page.wait_for_selector("[data-testid=resolution]")
    request = RefundRequest.objects.get()
    fee = txn.price // 10
    assert request.restocking_fee == fee and request.amount == txn.price - fee  # shipping not refunded
    _return_goes_back(seller_person, buyer_person, txn, request)
    buyer_person.page.goto(f"/pengembalian-dana/{txn.reference}/")
    page = buyer_person.page.inner_text("[data-testid=refund-request]").replace("\xa0", " ")
    assert rupiah(fee) in page and rupiah(txn.price - fee) in page

    refund_services.refund_approve(refund_request=request, actor=finance, reason="Retur diterima penjual")
    buyer_adds_account_and_is_paid(buyer_person, sendme, txn, request, "7009992001")


def test_a_seller_fault_return_pays_the_return_shipping_too(people, sendme, seller, buyer, dispute_officer):
    sendme("account_register", number="7009992002", holder_name="BUDI PEMBELI")
    finance = _staff_in("Finance", "fani@intrasa.co.id", "Fani Keuangan")
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    dispute = dispute_services.dispute_open(escrow_transaction=txn, buyer=buyer, reason="wrong_item",
                                            description="Warna salah")
    dispute_services.dispute_resolve(dispute=dispute, staff=dispute_officer, outcome="refund",
                                     reason="Salah kirim terbukti dari foto", return_shipping=30_000)
    request = RefundRequest.objects.get()
    paid = scenarios.buyer_paid(txn)  # a refund in full gives back what the buyer paid, and the return shipping
    assert request.amount == paid + 30_000
    seller_person = signed_in(people, seller, "seller")
    buyer_person = signed_in(people, buyer, "buyer", viewport=None)  # a desktop this time
    _return_goes_back(seller_person, buyer_person, txn, request)
    refund_services.refund_approve(refund_request=request, actor=finance, reason="Inspeksi: salah kirim")
    buyer_adds_account_and_is_paid(buyer_person, sendme, txn, request, "7009992002")
    assert request.payout.amount == paid + 30_000  # item, shipping, fee and the return shipping: paid


def test_a_short_shipment_refunds_the_missing_part(people, sendme, seller, buyer):
    sendme("account_register", number="7009992003", holder_name="BUDI PEMBELI")
    finance = _staff_in("Finance", "fani@intrasa.co.id", "Fani Keuangan")
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    buyer_person = signed_in(people, buyer, "buyer")
    buyer_opens_dispute(buyer_person, txn, "short_shipment", "Dus berisi meja tanpa 2 kursi",
                        fields={"textarea[name=missing_items]": "2 kursi jati", "input[name=missing_value]": "300.000"})
    buyer_person.page.wait_for_selector("[data-testid=short-shipment]")

    seller_person = signed_in(people, seller, "seller")
    seller_person.page.goto(f"/sengketa/{txn.reference}/")
    assert rupiah(300_000) in seller_person.page.inner_text("[data-testid=short-shipment]").replace("\xa0", " ")
    check_page(seller_person, "short-shipment-seller")
    seller_person.page.click("[data-testid=accept-short-shipment]")
    seller_person.page.wait_for_selector("[data-testid=resolution]")
    request = RefundRequest.objects.get()
    assert request.case == "short_shipment" and request.amount == 300_000 and not request.goods_return
    refund_services.refund_approve(refund_request=request, actor=finance, reason="Kurang kirim disetujui penjual")
    buyer_adds_account_and_is_paid(buyer_person, sendme, txn, request, "7009992003")


def test_a_failed_but_charged_debit_is_booked_by_finance_and_refunded(people, sendme, seller, buyer, tmp_path):
    from tests.disputes.conftest import pdf_bytes

    sendme("account_register", number="7009992004", holder_name="BUDI PEMBELI")
    finance = _staff_in("Finance", "fani@intrasa.co.id", "Fani Keuangan")
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    # Finance import the statement: a 175.000 credit no bill claims sits in suspense.
    staff = signed_in(people, finance, "finance", viewport=None)
    statement = tmp_path / "mutasi.csv"
    statement.write_text("date,description,amount,reference\n2026-11-24,TRSF CR BUDI PEMBELI,175000,BCA-4242\n")
    staff.page.goto("/admin/payments/bankstatementline/import/")
    staff.page.set_input_files("input[type=file]", str(statement))
    staff.page.click("input[type=submit]")
    staff.page.wait_for_url("**/admin/payments/bankstatementline/")

    # The buyer reports the debit from the refund page and uploads the bank statement that shows it.
    buyer_person = signed_in(people, buyer, "buyer")
    buyer_person.page.goto(f"/pengembalian-dana/{txn.reference}/")
    buyer_person.page.select_option("select[name=case]", "failed_payment")
    buyer_person.page.fill("input[name=amount]", "175.000")
    buyer_person.page.fill("textarea[name=description]", "Transfer gagal di aplikasi, tapi saldo terpotong")
    buyer_person.page.click("form:has(select[name=case]) button[type=submit]")
    buyer_person.page.wait_for_selector("[data-testid=refund-request]")
    proof = tmp_path / "mutasi-budi.pdf"
    proof.write_bytes(pdf_bytes())
    buyer_person.page.select_option("select[name=kind]", "bank_statement")
    buyer_person.page.set_input_files("input[name=file]", str(proof))
    buyer_person.page.click("form[enctype='multipart/form-data'] button[type=submit]")
    buyer_person.page.wait_for_selector("[data-testid=next-step][data-holder=intrasa]")
    assert "Fani" in buyer_person.page.inner_text("[data-testid=next-step]")  # a named person holds it
    check_page(buyer_person, "charge-reported")
    request = RefundRequest.objects.get()
    assert request.handler_task == "charge"

    # Finance book it from the statement line, with the reason, in the admin.
    staff.page.goto("/admin/refunds/refundrequest/")
    staff.page.check(f"input[name=_selected_action][value='{request.pk}']")
    staff.page.select_option("select[name=action]", "book_charge")
    staff.page.click("button[name=index]")
    staff.page.select_option("select[name=source]", "statement")
    staff.page.select_option("select[name=statement_line]", index=1)
    staff.page.fill("textarea[name=reason]", "Mutasi pembeli cocok dengan BCA-4242 Rp 175.000 di rekening escrow")
    staff.shot("book-charge")
    staff.page.click("input[type=submit]")
    staff.page.wait_for_url("**/admin/refunds/refundrequest/**")
    request.refresh_from_db()
    assert request.charge_booked_by == finance and request.amount == 175_000
    refund_services.refund_approve(refund_request=request, actor=finance, reason="Dana tercatat, dokumen lengkap")
    buyer_adds_account_and_is_paid(buyer_person, sendme, txn, request, "7009992004")
