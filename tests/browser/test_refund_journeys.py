"""Refund journeys in the browser (issue 15): each case that owes the buyer money ends with the money at
the buyer — the SendMe sandbox received exactly that transfer — the buyer's page and refund receipt PDF
showing the amount, the day and the account, and ``ledger_check`` green (``refund_steps``). The buyer
works on a phone (390×844); staff work in the admin on a desktop, past the second factor."""
import pytest

from disputes.models import Dispute
from escrow import services as escrow_services
from ledger.models import AccountCategory
from ledger.selectors import transaction_balances
from payments.models import Bill
from refunds import services as refund_services
from refunds.models import RefundRequest
from tests import scenarios
from tests.browser.conftest import check_page
from tests.browser.refund_steps import (
    REFUND_RECEIPT,
    buyer_adds_account_and_is_paid,
    buyer_opens_dispute,
    buyer_sees_the_refund_arrived,
    finance_approves_in_the_admin,
    finance_member,
    pdf_text,
    rupiah,
    sandbox_transfers_to,
    signed_in,
    text_of,
    transaction_status,
)
from tests.disputes.conftest import _staff_in
from transactions.models import Status

pytestmark = pytest.mark.django_db(transaction=True)

NEXT = "[data-testid=status-card] [data-testid=next-step]"  # the transaction page's one next step
IN_PROGRESS = "Pengembalian dana ke pembeli sedang diproses"  # the transaction until the transfer succeeded
REFUNDED = "Dana dikembalikan ke pembeli"  # only after


def _refund_page(person, txn):
    person.page.goto(f"/pengembalian-dana/{txn.reference}/")
    person.page.wait_for_selector("[data-testid=refund-request]")


def _pays_at_the_sandbox(person, txn, *, channel="702", amount=None):
    """The buyer chooses a payment method and pays at the sandbox's payment page (``amount`` other than
    the bill's, if given); the sandbox notifies INTRASA, which verifies the payment."""
    person.page.goto(f"/pembayaran/{txn.reference}/")
    person.page.check(f"input[name=channel][value='{channel}']")
    person.page.click("[data-testid=method-form] button[type=submit]")
    person.page.wait_for_selector("[data-testid=instructions]")
    person.page.goto(person.page.get_attribute("[data-testid=sandbox-link]", "href"))
    if amount is None:
        person.page.click("form:has(input[name=action][value=pay]) button")
    else:
        wrong = "form:has(input[name=action][value=pay_wrong_amount])"
        person.page.fill(f"{wrong} input[name=amount]", str(amount))
        person.page.click(f"{wrong} button")
    person.page.wait_for_selector(".messages, [role=status], table")
    txn.refresh_from_db()
    return Bill.objects.filter(escrow_transaction=txn).order_by("-pk").first()


def test_seller_cancels_after_payment_and_the_buyer_gets_the_money(people, sendme, seller, buyer):
    sendme("account_register", number="7009991001", holder_name="BUDI PEMBELI")
    finance = finance_member()
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    escrow_services.escrow_cancel_and_refund(escrow_transaction=txn, actor=seller, reason="Stok habis")
    request = RefundRequest.objects.get()
    assert request.handler == finance  # a named person holds the next step
    refund_services.refund_approve(refund_request=request, actor=finance, reason="Dokumen lengkap, sesuai kebijakan")
    person = signed_in(people, buyer, "buyer")
    assert transaction_status(person, txn) == IN_PROGRESS
    buyer_adds_account_and_is_paid(person, sendme, txn, request, "7009991001")
    assert transaction_status(person, txn) == REFUNDED


def test_a_double_bank_transfer_is_matched_by_finance_and_refunded(people, sendme, seller, buyer, tmp_path):
    from payments import services as payment_services

    sendme("account_register", number="7009991002", holder_name="BUDI PEMBELI")
    finance = finance_member()
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    bill = payment_services.payment_start(escrow_transaction=txn, buyer=buyer, channel_code="transfer")
    staff = signed_in(people, finance, "finance", viewport=None)
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
    buyer_adds_account_and_is_paid(signed_in(people, buyer, "buyer"), sendme, txn, request, "7009991002")


def test_a_dispute_the_buyer_wins_in_full_ends_with_the_money_at_the_buyer(people, sendme, seller, buyer, tmp_path):
    from PIL import Image

    sendme("account_register", number="7009991003", holder_name="BUDI PEMBELI")
    finance = finance_member()
    officer = _staff_in("Dispute officer", "dimas@intrasa.co.id", "Dimas Petugas")
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    held = txn.amount_received
    paid = scenarios.buyer_paid(txn)  # what a refund in full gives back (the unique code stays INTRASA's)
    tracking = tmp_path / "lacak-resi.png"
    Image.new("RGB", (64, 48), (30, 30, 200)).save(tracking, "PNG")

    # The buyer reports on a phone that nothing arrived, with the courier's tracking page as evidence.
    buyer_person = signed_in(people, buyer, "buyer")
    buyer_opens_dispute(buyer_person, txn, "not_received", "Resi JNE berhenti di gudang sejak 5 hari",
                        evidence=tracking)
    buyer_person.page.wait_for_selector("[data-testid=dispute-status]")
    dispute = Dispute.objects.get()
    assert dispute.evidence.count() == 1

    # A dispute officer refunds the buyer in full from the case page, before the seller's reply deadline.
    staff = signed_in(people, officer, "officer", viewport=None)
    staff.page.goto(f"/admin/disputes/dispute/{dispute.pk}/change/")
    assert rupiah(held) in text_of(staff, "[data-testid=funds-state]")
    staff.page.click("[data-testid=step-refund]")
    staff.page.fill("textarea[name=reason]", "Pelacakan kurir menunjukkan paket tidak pernah diantar")
    staff.page.check("input[name=confirm_before_deadline]")
    staff.shot("refund-in-full")
    staff.page.click("input[type=submit]")
    staff.page.wait_for_url(f"**/admin/disputes/dispute/{dispute.pk}/change/")
    request = RefundRequest.objects.get()
    assert request.case == "not_received" and request.amount == paid and not request.goods_return

    # Until the transfer succeeded the transaction and the receipt say "in progress", never "refunded".
    assert transaction_status(buyer_person, txn) == IN_PROGRESS
    receipt = pdf_text(buyer_person.page.request.get(REFUND_RECEIPT.format(reference=txn.reference)).body())
    assert "Pengembalian dana sedang diproses" in receipt and rupiah(paid) in receipt
    _refund_page(buyer_person, txn)
    step = buyer_person.page.locator("[data-testid=next-step]")
    assert step.count() == 1 and step.get_attribute("data-holder") == "intrasa" and "Fani" in step.inner_text()

    finance_approves_in_the_admin(signed_in(people, finance, "finance", viewport=None), request,
                          "Sengketa diputus untuk pembeli, dokumen lengkap")
    _refund_page(buyer_person, txn)
    step = buyer_person.page.locator("[data-testid=next-step]")
    assert step.count() == 1 and step.get_attribute("data-holder") == "buyer"
    assert "Tambahkan atau pilih rekening bank atau dompet digital" in step.inner_text()
    check_page(buyer_person, "next-step-account")
    assert transaction_status(buyer_person, txn) == IN_PROGRESS
    pdf = buyer_adds_account_and_is_paid(buyer_person, sendme, txn, request, "7009991003")
    assert "Dana dikembalikan" in pdf
    assert transaction_status(buyer_person, txn) == REFUNDED


def test_a_short_payment_is_refunded_while_the_transaction_waits_for_the_full_amount(people, faspay, sendme, seller,
                                                                                     buyer):
    sendme("account_register", number="7009991004", holder_name="BUDI PEMBELI")
    finance = finance_member()
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    buyer_person = signed_in(people, buyer, "buyer")
    short = txn.amount_due - 290_000
    bill = _pays_at_the_sandbox(buyer_person, txn, amount=short)
    assert bill.flag == Bill.Flag.SHORT and txn.status == Status.CREATED  # nothing is held, nothing released
    request = RefundRequest.objects.get()
    assert request.case == "failed_payment" and request.amount == short and request.bill == bill

    # The buyer's page: the short payment comes back, and the full amount is paid again.
    assert transaction_status(buyer_person, txn) == "Menunggu pembayaran"
    assert text_of(buyer_person, NEXT).startswith(
        f"Selanjutnya: Pembayaran Anda sebelumnya tidak dapat mendanai transaksi ini: {rupiah(short)} sedang "
        f"dikembalikan kepada Anda, dan halaman pengembalian dana menjelaskan ke mana dana itu dikirim. Untuk "
        f"melanjutkan, bayar penuh {rupiah(txn.amount_due)} sebelum ")
    assert (f"{rupiah(short)} diterima untuk tagihan {rupiah(bill.amount)}: kurang untuk mendanai transaksi"
            in text_of(buyer_person, "[data-testid=timeline]"))  # in the reader's words, not the bill's codes
    assert buyer_person.page.is_visible("[data-testid=pay-link]")
    check_page(buyer_person, "short-payment")

    refund_services.refund_approve(refund_request=request, actor=finance, reason="Pembayaran kurang, dikembalikan")
    buyer_adds_account_and_is_paid(buyer_person, sendme, txn, request, "7009991004")
    assert transaction_status(buyer_person, txn) == "Menunggu pembayaran"  # still waiting for the full payment
    assert text_of(buyer_person, NEXT).startswith(f"Selanjutnya: Bayar {rupiah(txn.amount_due)} sebelum")

    # The full payment is held; the short one is back with the buyer, so nothing more is owed.
    _pays_at_the_sandbox(buyer_person, txn, channel="800")
    assert txn.status == Status.VERIFIED
    balances = transaction_balances(escrow_transaction=txn)
    assert balances[AccountCategory.ESCROW_HOLD] == txn.amount_due
    assert balances.get(AccountCategory.BUYER_REFUND_PAYABLE, 0) == 0


def test_an_excess_payment_is_refunded_and_the_escrow_holds_exactly_the_bill(people, faspay, sendme, seller, buyer):
    sendme("account_register", number="7009991005", holder_name="BUDI PEMBELI")
    finance = finance_member()
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    buyer_person = signed_in(people, buyer, "buyer")
    bill = _pays_at_the_sandbox(buyer_person, txn, amount=txn.amount_due + 75_000)
    assert bill.flag == Bill.Flag.EXCESS and txn.status == Status.VERIFIED
    balances = transaction_balances(escrow_transaction=txn)
    assert balances[AccountCategory.ESCROW_HOLD] == txn.amount_due
    request = RefundRequest.objects.get()
    assert request.case == "excess_payment" and request.amount == 75_000

    assert transaction_status(buyer_person, txn) == "Pembayaran terverifikasi"
    assert (f"INTRASA sedang mengembalikan {rupiah(75_000)} kepada Anda: halaman pengembalian dana menjelaskan"
            in text_of(buyer_person, NEXT))
    check_page(buyer_person, "excess-payment")
    refund_services.refund_approve(refund_request=request, actor=finance, reason="Kelebihan bayar dikembalikan")
    pdf = buyer_adds_account_and_is_paid(buyer_person, sendme, txn, request, "7009991005")
    assert rupiah(75_000) in pdf
    balances = transaction_balances(escrow_transaction=txn)
    assert balances[AccountCategory.ESCROW_HOLD] == txn.amount_due  # the bill, exactly
    assert balances.get(AccountCategory.BUYER_REFUND_PAYABLE, 0) == 0


WALLET = "081277770001"  # as the buyer types it, and as the sandbox receives it


def _ewallet_refund_held(people, seller, buyer):
    """The seller cancelled after payment and Finance approved; the buyer chooses an e-wallet on the refund
    page. No provider tells the name an e-wallet is registered to, so the refund waits for Finance."""
    finance = finance_member()
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    escrow_services.escrow_cancel_and_refund(escrow_transaction=txn, actor=seller, reason="Stok habis")
    request = RefundRequest.objects.get()
    refund_services.refund_approve(refund_request=request, actor=finance, reason="Dokumen lengkap, sesuai kebijakan")
    buyer_person = signed_in(people, buyer, "buyer")
    _refund_page(buyer_person, txn)
    buyer_person.page.select_option("select[name=ewallet-provider]", "ovo")
    buyer_person.page.fill("input[name=ewallet-phone]", WALLET)
    buyer_person.page.fill("input[name=ewallet-registered_name]", "Budi Pembeli")
    buyer_person.page.click("form:has(input[name=kind][value=ewallet]) button[type=submit]")
    buyer_person.page.wait_for_selector("[data-testid=next-step][data-holder=intrasa]")
    step = text_of(buyer_person, "[data-testid=next-step]")
    assert "dompet digital terdaftar atas nama pembeli" in step and "Fani" in step  # the task and who holds it
    assert buyer_person.page.is_visible("[data-testid=ewallet-hold-reason]")  # and why the refund waits
    check_page(buyer_person, "ewallet-held")
    request.refresh_from_db()
    assert request.handler == finance and request.handler_task == "ewallet"
    return buyer_person, signed_in(people, finance, "finance", viewport=None), txn, request


def _review_ewallet_in_the_admin(staff, request, *, registered_to_buyer, reason, seen_name=""):
    staff.page.goto("/admin/refunds/refundrequest/")
    staff.page.check(f"input[name=_selected_action][value='{request.pk}']")
    staff.page.select_option("select[name=action]", "review_ewallet")
    staff.page.click("button[name=index]")
    staff.page.select_option("select[name=confirmed]", "yes" if registered_to_buyer else "no")
    staff.page.fill("input[name=seen_name]", seen_name)
    staff.page.fill("textarea[name=reason]", reason)
    staff.shot("review-ewallet")
    staff.page.click("input[type=submit]")
    staff.page.wait_for_url("**/admin/refunds/refundrequest/")


def test_an_ewallet_refund_waits_for_finance_to_confirm_the_name_then_is_topped_up(people, sendme, seller, buyer):
    buyer_person, staff, txn, request = _ewallet_refund_held(people, seller, buyer)
    assert sandbox_transfers_to(sendme, WALLET) == []  # nothing is sent before the check
    assert transaction_status(buyer_person, txn) == IN_PROGRESS
    _review_ewallet_in_the_admin(staff, request, registered_to_buyer=True,
                                 reason="Tangkapan layar OVO dari pembeli menunjukkan nama Budi Pembeli")
    buyer_sees_the_refund_arrived(buyer_person, sendme, txn, request, WALLET)
    assert transaction_status(buyer_person, txn) == REFUNDED


def test_an_ewallet_in_another_name_is_refused_and_the_buyer_adds_a_bank_account(people, sendme, seller, buyer):
    sendme("account_register", number="7009991006", holder_name="BUDI PEMBELI")
    buyer_person, staff, txn, request = _ewallet_refund_held(people, seller, buyer)
    _review_ewallet_in_the_admin(staff, request, registered_to_buyer=False, seen_name="SITI AMINAH",
                                 reason="Aplikasi OVO menampilkan nama lain saat dicek")
    # The buyer is told which account was refused and why, is not offered it again, and adds another.
    _refund_page(buyer_person, txn)
    assert "terdaftar atas nama “SITI AMINAH”, bukan atas nama Anda" in text_of(buyer_person,
                                                                             "[data-testid=refused-accounts]")
    assert buyer_person.page.get_attribute("[data-testid=add-refund-account]", "open") is not None
    assert buyer_person.page.locator("select[name=destination]").count() == 0
    assert buyer_person.page.get_attribute("[data-testid=next-step]", "data-holder") == "buyer"
    check_page(buyer_person, "ewallet-refused")
    assert sandbox_transfers_to(sendme, WALLET) == []
    buyer_adds_account_and_is_paid(buyer_person, sendme, txn, request, "7009991006")
    assert transaction_status(buyer_person, txn) == REFUNDED
