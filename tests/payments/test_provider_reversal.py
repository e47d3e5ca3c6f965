"""A payment the provider took back (Faspay ``payment_status_code`` 4) is booked by staff, so that what
Faspay collected equals what the ledger holds, owes or paid per transaction (DESIGN.md §4) instead of the
ledger holding money Faspay no longer has, on a transaction frozen for good.

Flagging the reversal (``bill_apply_status``) only freezes the money; booking it
(``escrow.services.escrow_book_provider_reversal``) moves it:

* held in escrow: out of the hold, the transaction ends refunded *by the provider* (no refund is sent, no
  payout), its dispute closes, both parties are told;
* already paid out to the seller: owed to INTRASA (the reversal receivable), for finance to recover or
  write off; released but not paid out yet: the payout is held and booking refused (it cannot be
  withdrawn yet);
* owed back to the buyer and not sent: off the buyer refund payable, its refund request closed;
* paid but never verified: nothing was booked; the transaction waits for a payment again, and a later
  payment moves it as any other (the freeze lifts once the reversal is booked);
* still owed back to the buyer and not sent: refused (the buyer has it from Faspay), nothing changes.

Every scenario ends with ``ledger_check`` green.
"""
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from audit.models import AuditEntry
from disbursements.models import Payout
from disputes.models import Dispute
from escrow import services as escrow_services
from ledger.models import AccountCategory, EntryKind, Posting
from ledger.selectors import category_balance, money_statement, transaction_balances, transaction_postings
from notifications.models import Notification
from payments import checks as payment_checks
from payments.models import Bill
from payments.services import StaffPaymentError
from refunds.models import RefundRequest
from tests import scenarios
from tests.disbursements.conftest import confirmed, sendme  # noqa: F401 - a release paid out over SendMe
from tests.disbursements.fakes import fake_sendme  # noqa: F401 - a SendMe double choosing its answers
from tests.disputes.conftest import officer  # noqa: F401 - staff who decide disputes
from transactions import progress
from transactions.models import Status, TransactionEvent

from .steps import pay_with_lost_notification, poll_now, refresh, start

REASON = "Faspay transaction report 28 Nov: payment_status_code 4 (reversal)"


@pytest.fixture(autouse=True)
def _books_balance_after_each_scenario(db):
    yield
    call_command("ledger_check")


def reversed_by_the_provider(txn) -> Bill:
    """What ``payments.services.bill_apply_status`` records when Faspay answers code 4 for a paid bill."""
    bill = Bill.objects.get(escrow_transaction=txn, status__in=[Bill.Status.PAID, Bill.Status.VERIFIED])
    Bill.objects.filter(pk=bill.pk).update(flag=Bill.Flag.REVERSED)
    return bill


def paid_va_bill(txn, bill_no: str, trx_id: str, **extra) -> Bill:
    """A VA bill Faspay says was paid whose amount no source stated yet (its notification was lost), as
    polling leaves it; ``extra`` sets the flag or the payment code."""
    from django.utils import timezone

    now = timezone.now()
    return Bill.objects.create(escrow_transaction=txn, method="va", channel_code="702", bill_no=bill_no,
                               amount=txn.amount_due, status=Bill.Status.PAID, provider_trx_id=trx_id, paid_at=now,
                               expires_at=now + timezone.timedelta(hours=24), creation_attempts=1, **extra)


def book(bill, staff, reason=REASON):
    return escrow_services.escrow_book_provider_reversal(bill_id=bill.pk, actor=staff, reason=reason)


# --- held in escrow ---------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_a_held_payment_faspay_reversed_ends_refunded_by_the_provider(faspay, live_server, client, accepted, buyer,
                                                                        seller, finance_officer):
    """End to end over real HTTP: Faspay reverses a verified payment of a disputed transaction; finance
    books it in the admin; the ledger stops counting the money and the dispute closes."""
    bill = start(accepted, buyer, "702")
    faspay("bill_pay", trx_id=bill.provider_trx_id)
    refresh(bill, accepted)
    assert accepted.status == Status.VERIFIED
    txn = scenarios.advance(accepted, buyer, Status.SHIPPED)
    dispute = scenarios.open_dispute(txn, buyer, reason="not_received", description="Paket tidak datang")

    faspay("bill_reverse", trx_id=bill.provider_trx_id)  # the notification (code 4) and the inquiry flag it
    refresh(bill, txn)
    assert bill.flag == Bill.Flag.REVERSED and bill.status == Bill.Status.VERIFIED
    assert txn.status == Status.DISPUTED  # frozen: nothing is released or refunded meanwhile
    # The ledger still holds money Faspay no longer has: the cross-check says so until it is booked.
    assert payment_checks.collected_equals_booked() == []  # the flagged bill still counts as collected

    url = reverse("admin:payments_bill_book_reversal", args=[bill.pk])
    client.force_login(finance_officer)
    queue = client.get(reverse("admin:payments_bill_changelist") + "?reversal=to_book").content.decode()
    assert bill.bill_no in queue and url in queue
    assert client.post(url, {"reason": " "}).status_code == 200  # no reason: the form says so, nothing moves
    assert Bill.objects.get(pk=bill.pk).status == Bill.Status.VERIFIED
    response = client.post(url, {"reason": REASON})
    assert response.status_code == 302

    refresh(bill, txn, dispute)
    assert bill.status == Bill.Status.REVERSED and bill.reversal_booked_at is not None
    assert txn.status == Status.REFUNDED and txn.payment_taken_back_at is not None and txn.closed_at is not None
    assert dispute.status == Dispute.Status.RESOLVED and dispute.outcome == Dispute.Outcome.TAKEN_BACK
    assert dispute.resolved_by == finance_officer
    balances = transaction_balances(escrow_transaction=txn)
    assert balances.get(AccountCategory.ESCROW_HOLD, 0) == 0
    assert balances.get(AccountCategory.BUYER_REFUND_PAYABLE, 0) == 0
    assert not RefundRequest.objects.filter(escrow_transaction=txn).exists()
    assert not Payout.objects.filter(escrow_transaction=txn).exists()
    # What Faspay collected (nothing: it took it back) equals what the ledger booked in for the transaction.
    collected = sum(b["payment_total"] or 0 for b in faspay.state()["bills"]
                    if b["bill_no"] == bill.bill_no and b["status"] == "2")
    taken_back = Posting.objects.filter(entry__escrow_transaction=txn, entry__kind=EntryKind.PAYMENT_TAKEN_BACK,
                                        account__category=AccountCategory.PROVIDER_CLEARING, side="C")
    assert collected == 0 and sum(p.amount for p in taken_back) == bill.paid_amount
    # Both parties are told; the timeline says who booked it and why.
    kinds = set(Notification.objects.filter(event_key__startswith=f"txn:{txn.reference}:").values_list("kind",
                                                                                                      flat=True))
    assert {"payment_taken_back_buyer", "payment_taken_back_seller"} <= kinds
    event = TransactionEvent.objects.get(escrow_transaction=txn, action="take_back_payment")
    assert event.actor == finance_officer and event.reason == REASON
    assert AuditEntry.objects.filter(action="payment.reversal_booked", actor=finance_officer).exists()
    # Booking it twice is refused.
    with pytest.raises(StaffPaymentError) as again:
        book(bill, finance_officer)
    assert again.value.code == "not_reversed"


def test_the_parties_read_that_the_provider_returned_the_payment(client, seller, buyer, finance_officer, in_english):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    bill = reversed_by_the_provider(txn)
    paid = scenarios.buyer_paid(txn)
    book(bill, finance_officer)
    txn.refresh_from_db()
    assert txn.status == Status.REFUNDED and txn.status_label == "Refunded to buyer"
    # A bank transfer's unique code was INTRASA's discount: it goes back to INTRASA, the buyer got what they paid.
    statement = money_statement(list(transaction_postings(escrow_transaction=txn)))
    assert statement["returned_by_provider"] == paid and statement["discount"] == 0
    assert statement["held"] == statement["refund_pending"] == statement["refunded"] == 0
    assert "returned your payment to you" in progress.next_step(txn, "buyer")
    assert "Do not ship" in progress.next_step(txn, "seller")
    client.force_login(buyer)
    page = client.get(txn.get_absolute_url()).content.decode()
    assert "Returned to the buyer by the payment provider" in page
    assert "The payment provider returned the payment to the buyer" in page  # the timeline
    from tests.documents.test_pdfs import pdf_text

    receipt = client.get(reverse("documents:download", kwargs={"reference": txn.reference, "kind": "kuitansi"}))
    # The receipt is written in the buyer's language (Bahasa Indonesia, the default).
    assert "Dikembalikan ke pembeli oleh penyedia pembayaran" in pdf_text(receipt)
    # INTRASA refunded nothing: there is no refund receipt to offer.
    assert client.get(reverse("documents:download", kwargs={"reference": txn.reference,
                                                            "kind": "kuitansi-pengembalian"})).status_code == 404


def test_a_held_payment_reversed_before_shipping_is_booked_without_a_dispute(seller, buyer, finance_officer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    bill = reversed_by_the_provider(txn)
    [booked] = book(bill, finance_officer)
    assert booked.taken_from_hold == bill.paid_amount and booked.to_recover == 0 and not booked.was_disputed
    txn.refresh_from_db()
    assert txn.status == Status.REFUNDED
    assert category_balance(category=AccountCategory.REVERSAL_RECEIVABLE) == 0


# --- already released ---------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_a_payment_reversed_after_its_payout_is_owed_to_intrasa(sendme, confirmed, finance_officer):
    txn = confirmed()
    txn.refresh_from_db()
    assert txn.status == Status.DISBURSED  # paid out to the seller over SendMe
    bill = reversed_by_the_provider(txn)
    before = transaction_balances(escrow_transaction=txn)
    [booked] = book(bill, finance_officer)
    assert booked.taken_from_hold == 0 and booked.to_recover == bill.paid_amount
    txn.refresh_from_db()
    assert txn.status == Status.DISBURSED  # the seller has the money; recovering it is finance's
    assert transaction_balances(escrow_transaction=txn) == before  # the transaction's own accounts are untouched
    assert category_balance(category=AccountCategory.REVERSAL_RECEIVABLE) == bill.paid_amount
    assert payment_checks.collected_equals_booked() == []


def test_a_seller_payout_not_sent_is_held_and_the_booking_refused(seller, buyer, finance_officer, settings):
    """Released, the seller's payout waiting for an account; Faspay takes the payment back. The payout is not
    sent (it would pay out money Faspay took back), and booking is refused rather than counting it as already
    paid out (hostile review)."""
    from disbursements.models import Disbursement
    from disbursements.services import disbursement_dispatch, payout_use_destination
    from tests.disbursements.conftest import verified_bank

    settings.SENDME_NIGHT_HOLD_BANK = False  # sent at the wall clock's time, which may be night
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
    payout = Payout.objects.get(escrow_transaction=txn, purpose=Payout.Purpose.SELLER_PAYOUT)
    assert payout.status == Payout.Status.AWAITING_DESTINATION
    bill = reversed_by_the_provider(txn)
    payout_use_destination(payout=payout, destination=verified_bank(seller), actor=seller)
    part = Disbursement.objects.get(payout=payout)
    disbursement_dispatch(disbursement_id=part.pk)
    part.refresh_from_db()
    assert part.status == Disbursement.Status.QUEUED and part.sent_at is None and part.not_before is not None
    assert part.waiting_for == Disbursement.Wait.REVERSED_PAYMENT  # the payout card says why it waits
    before = transaction_balances(escrow_transaction=txn)
    with pytest.raises(StaffPaymentError) as refused:
        book(bill, finance_officer)
    assert refused.value.code == "payout_unsent" and txn.reference in refused.value.message
    bill.refresh_from_db()
    assert bill.status == Bill.Status.VERIFIED and transaction_balances(escrow_transaction=txn) == before


def test_a_seller_payout_waiting_to_be_resent_is_not_resent_while_unbooked(seller, buyer, finance_officer,
                                                                              fake_sendme, settings):
    """SendMe did not process the payout ("429"): it waits to be resent under the same reference. Faspay then
    takes the payment back: the resend (a send too) waits like a first send (third review)."""
    from disbursements import tasks as disbursement_tasks
    from disbursements.models import Disbursement
    from tests.disbursements.conftest import verified_bank
    from tests.disbursements.fakes import answer

    settings.SENDME_NIGHT_HOLD_BANK = False
    verified_bank(seller)
    fake_sendme.answers = [answer("4291800", "Too Many Requests")]
    from disbursements.services import disbursement_dispatch

    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
    part = Disbursement.objects.get(payout__escrow_transaction=txn)
    disbursement_dispatch(disbursement_id=part.pk)  # what the task enqueued on commit does
    part.refresh_from_db()
    assert part.status == Disbursement.Status.RETRYING and len(fake_sendme.sent) == 1
    bill = reversed_by_the_provider(txn)
    from django.utils import timezone

    Disbursement.objects.filter(pk=part.pk).update(next_attempt_at=timezone.now())
    disbursement_tasks.resolve_due_disbursements()
    part.refresh_from_db()
    assert part.status == Disbursement.Status.RETRYING and len(fake_sendme.sent) == 1  # not resent
    assert part.next_attempt_at > timezone.now() and part.waiting_for == Disbursement.Wait.REVERSED_PAYMENT
    with pytest.raises(StaffPaymentError) as refused:
        book(bill, finance_officer)
    assert refused.value.code == "payout_unsent"


def test_a_refund_with_return_shipping_advanced_goes_on_for_the_advance_alone(seller, buyer, officer,  # noqa: F811
                                                                             finance_officer):
    """A dispute decided as a refund with return shipping INTRASA advances; then Faspay takes the payment
    back. The buyer has the payment from Faspay, and is still owed the advance: the request goes on for it
    (hostile review: booking used to be refused for good)."""
    from disputes import services as dispute_services

    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    dispute = scenarios.open_dispute(txn, buyer, reason="defective", description="Layar retak")
    dispute_services.dispute_resolve(dispute=dispute, staff=officer, outcome="refund", reason="Barang rusak",
                                     return_shipping=30_000)
    request = RefundRequest.objects.get(escrow_transaction=txn)
    assert request.uncovered_amount > 0
    advance = request.uncovered_amount
    bill = reversed_by_the_provider(txn)
    [booked] = book(bill, finance_officer)
    assert booked.taken_from_refunds == bill.paid_amount and booked.to_recover == 0
    request.refresh_from_db()
    assert request.is_open and request.amount == advance
    assert transaction_balances(escrow_transaction=txn).get(AccountCategory.BUYER_REFUND_PAYABLE) == advance
    assert Notification.objects.filter(kind="refund_reduced_returned_by_provider", recipient=buyer).exists()

    # The goods go back and the seller rejects them; INTRASA upholds it. Nothing of the escrow is left to
    # release (Faspay returned the payment): the advance is taken back and the request closes (third review).
    from refunds import services as refund_services
    from refunds.models import ReturnShipment

    shipment = ReturnShipment.objects.get(refund_request=request)
    if shipment.status == ReturnShipment.Status.AWAITING_ADDRESS:
        refund_services.return_address_give(return_shipment=shipment, seller=seller, address="Jl. Merdeka 1, Bandung")
    refund_services.return_ship_back(return_shipment=shipment, buyer=buyer, courier="jne",
                                     receipt_number="JNE0099887766")
    refund_services.return_inspect(return_shipment=shipment, seller=seller, accepted=False, note="Bukan barang kami")
    escrow_services.escrow_return_rejection_uphold(return_shipment=shipment, actor=finance_officer,
                                                   reason="Penolakan sah")
    request.refresh_from_db()
    txn.refresh_from_db()
    assert request.status == RefundRequest.Status.REJECTED and txn.status == Status.REFUNDED
    assert transaction_balances(escrow_transaction=txn).get(AccountCategory.BUYER_REFUND_PAYABLE, 0) == 0
    assert not Payout.objects.filter(escrow_transaction=txn).exists()


@pytest.mark.django_db(transaction=True)
def test_finance_recover_or_write_off_what_a_reversal_left_owed(sendme, confirmed, client, finance_officer,
                                                                 customer_service_officer):
    txn = confirmed()
    bill = reversed_by_the_provider(txn)
    book(bill, finance_officer)
    owed = bill.paid_amount
    url = reverse("admin:payments_bill_settle_reversal", args=[bill.pk])
    client.force_login(customer_service_officer)
    assert client.post(url, {"amount": "1", "how": "recovered", "reason": "x"}).status_code == 403
    client.force_login(finance_officer)
    assert f"Rp{owed:,}".replace(",", ".") in client.get(url).content.decode().replace("\xa0", "").replace(" ", "")
    too_much = client.post(url, {"amount": str(owed + 1), "how": "recovered", "reason": "Transfer dari penjual"})
    assert too_much.status_code == 200 and category_balance(category=AccountCategory.REVERSAL_RECEIVABLE) == owed
    assert client.post(url, {"amount": "1000000", "how": "recovered",
                             "reason": "Penjual mentransfer kembali, ref BCA 123"}).status_code == 302
    assert category_balance(category=AccountCategory.OPERATING_BANK) == 1_000_000
    escrow_services.bill_reversal_settle(bill_id=bill.pk, amount=owed - 1_000_000, how="written_off",
                                         actor=finance_officer, reason="Penjual tidak dapat dihubungi")
    assert category_balance(category=AccountCategory.REVERSAL_RECEIVABLE) == 0
    assert category_balance(category=AccountCategory.REVERSAL_LOSS) == owed - 1_000_000
    with pytest.raises(StaffPaymentError) as nothing_left:
        escrow_services.bill_reversal_settle(bill_id=bill.pk, amount=1, how="recovered", actor=finance_officer,
                                             reason="lagi")
    assert nothing_left.value.code == "nothing_to_recover"
    assert set(AuditEntry.objects.filter(action__startswith="payment.reversal_").values_list("action", flat=True)) == {
        "payment.reversal_booked", "payment.reversal_recovered", "payment.reversal_written_off"}


@pytest.mark.django_db(transaction=True)
def test_finance_is_told_what_to_recover_in_the_admin(sendme, confirmed, client, finance_officer):
    txn = confirmed()
    bill = reversed_by_the_provider(txn)
    client.force_login(finance_officer)
    response = client.post(reverse("admin:payments_bill_book_reversal", args=[bill.pk]), {"reason": REASON},
                           follow=True)
    shown = [str(message) for message in response.context["messages"]]
    assert any(txn.reference in message for message in shown), shown
    assert bill.bill_no in response.content.decode()  # back on the booked queue


# --- never verified -----------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_a_payment_reversed_before_it_was_verified_reopens_the_transaction(faspay, live_server, accepted, buyer,
                                                                           finance_officer):
    """Paid at Faspay, its notification lost and no amount stated (so never verified), then reversed: nothing
    was booked, and the transaction waits for a payment again."""
    bill = start(accepted, buyer, "702")
    pay_with_lost_notification(faspay, live_server, bill)
    refresh(bill, accepted)
    assert bill.status == Bill.Status.PAID and accepted.status == Status.PAID
    faspay("bill_reverse", trx_id=bill.provider_trx_id)
    poll_now()
    refresh(bill)
    assert bill.flag == Bill.Flag.REVERSED and bill.status == Bill.Status.PAID
    [booked] = book(bill, finance_officer)
    assert booked.reopened and booked.taken_from_hold == booked.to_recover == 0
    txn = accepted
    txn.refresh_from_db()
    assert txn.status == Status.CREATED and txn.paid_at is None
    event = TransactionEvent.objects.filter(escrow_transaction=txn).latest("pk")
    with translation.override("en"):
        assert event.action == "reopen_after_reversal" and "took the payment back" in event.shown_reason
    # The freeze lifts once it is booked: a new payment is held and released as any other.
    txn = scenarios.advance(txn, buyer, Status.CONFIRMED)
    assert txn.status == Status.CONFIRMED
    assert transaction_balances(escrow_transaction=txn).get(AccountCategory.SELLER_PAYABLE) == txn.seller_receives


# --- refused, nothing changes -------------------------------------------------------------------------

def test_a_refund_still_owed_for_the_payment_closes_as_returned_by_the_provider(client, seller, buyer,
                                                                               officer,  # noqa: F811
                                                                               finance_officer):
    """A dispute decided as a refund, its transfer not planned yet; then Faspay takes the payment back. The
    buyer has the money from Faspay: the refund request closes, nothing is sent, nothing is owed."""
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    dispute = scenarios.open_dispute(txn, buyer, reason="not_received", description="Paket tidak datang")
    scenarios.resolve_dispute(dispute, officer, "refund", reason="Barang tidak sampai")
    request = RefundRequest.objects.get(escrow_transaction=txn)
    assert request.status == RefundRequest.Status.IN_REVIEW
    bill = reversed_by_the_provider(txn)
    [booked] = book(bill, finance_officer)
    assert booked.taken_from_refunds == request.amount and booked.taken_from_hold == booked.to_recover == 0
    request.refresh_from_db()
    assert request.status == RefundRequest.Status.RETURNED_BY_PROVIDER and request.payout_id is None
    assert transaction_balances(escrow_transaction=txn).get(AccountCategory.BUYER_REFUND_PAYABLE, 0) == 0
    assert Notification.objects.filter(kind="refund_returned_by_provider", recipient=buyer).exists()
    assert not Payout.objects.filter(escrow_transaction=txn).exists()
    client.force_login(buyer)
    for url in (request.get_absolute_url(), txn.get_absolute_url()):
        page = client.get(url)
        assert page.status_code == 200
        assert "Dikembalikan oleh penyedia pembayaran" in page.content.decode()
    # The refund receipt says the provider returned it, not that a refund is still in progress (review).
    from tests.documents.test_pdfs import pdf_text

    text = pdf_text(client.get(reverse("documents:download", kwargs={"reference": txn.reference,
                                                                      "kind": "kuitansi-pengembalian"})))
    assert "Dikembalikan ke pembeli oleh penyedia pembayaran" in text and "sedang diproses" not in text


def test_a_reversed_double_payment_closes_its_refund_and_the_escrow_moves_on(seller, buyer, finance_officer):
    """The escrow is funded by one payment; a second one (a double payment, owed back, its refund request
    open) is the one Faspay takes back. Booking it closes that refund, and the first payment's money is
    released as any other (hostile review: the whole transaction used to stay frozen)."""
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    double = paid_va_bill(txn, "INTDOUBLE0001", "9988776657")
    escrow_services.bill_record_provider_amount(bill_id=double.pk, amount=double.amount, actor=finance_officer,
                                                reason="Faspay report")
    double.refresh_from_db()
    assert double.flag == Bill.Flag.DOUBLE
    request = RefundRequest.objects.get(escrow_transaction=txn, bill=double)
    Bill.objects.filter(pk=double.pk).update(flag=Bill.Flag.REVERSED)
    [booked] = book(double, finance_officer)
    assert booked.taken_from_refunds == double.amount and booked.taken_from_hold == booked.to_recover == 0
    request.refresh_from_db()
    assert request.status == RefundRequest.Status.RETURNED_BY_PROVIDER
    txn.refresh_from_db()
    assert txn.status == Status.VERIFIED  # the first payment still funds the escrow
    txn = scenarios.advance(txn, buyer, Status.CONFIRMED)
    assert transaction_balances(escrow_transaction=txn).get(AccountCategory.SELLER_PAYABLE) == txn.seller_receives


def test_a_reversal_is_not_booked_over_a_refund_whose_transfer_is_planned(seller, buyer, officer,  # noqa: F811
                                                                          finance_officer):
    from refunds import services as refund_services

    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    dispute = scenarios.open_dispute(txn, buyer, reason="not_received", description="Paket tidak datang")
    scenarios.resolve_dispute(dispute, officer, "refund", reason="Barang tidak sampai")
    request = RefundRequest.objects.get(escrow_transaction=txn)
    refund_services.refund_approve(refund_request=request, actor=finance_officer, reason="Dokumen lengkap")
    request.refresh_from_db()
    assert request.status == RefundRequest.Status.PAYING
    bill = reversed_by_the_provider(txn)
    before = transaction_balances(escrow_transaction=txn)
    with pytest.raises(StaffPaymentError) as refused:
        book(bill, finance_officer)
    assert refused.value.code == "paying" and txn.reference in refused.value.message
    bill.refresh_from_db()
    request.refresh_from_db()
    assert bill.status == Bill.Status.VERIFIED and request.status == RefundRequest.Status.PAYING
    assert transaction_balances(escrow_transaction=txn) == before  # the whole booking rolled back


# --- a flagged payment is never placed again ----------------------------------------------------------

def test_a_payment_faspay_reported_reversed_is_never_placed(seller, buyer, finance_officer, settings):
    """Recording its amount (it sits in finance's "amount unknown" queue too) or a later "paid" answer from
    Faspay would settle the bill, overwrite the flag and lift the freeze (hostile review)."""
    from django.utils import timezone

    from faspay import results
    from payments import services as payment_services
    from payments.selectors import payment_reversed
    from tests.payments.notifications import notification_payload

    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    now = timezone.now()
    bill = paid_va_bill(txn, "INTFLAGGED001", "9988776655", flag=Bill.Flag.REVERSED)
    with pytest.raises(StaffPaymentError) as refused:
        escrow_services.bill_record_provider_amount(bill_id=bill.pk, amount=bill.amount + 5_000,
                                                    actor=finance_officer, reason="Faspay report")
    assert refused.value.code == "payment_reversed"
    paid_again = results.PaymentStatus(trx_id=bill.provider_trx_id, bill_no=bill.bill_no, status_code="2",
                                       status_description="Payment Success", paid_amount=bill.amount,
                                       payment_reference="X1", paid_at=now)
    payment_services.bill_apply_status(bill_id=bill.pk, status=paid_again)
    bill.refresh_from_db()
    assert bill.flag == Bill.Flag.REVERSED and bill.status == Bill.Status.PAID and payment_reversed(escrow_transaction=txn)
    assert AuditEntry.objects.filter(action="payment.status_after_reversal").exists()

    # Booked: a late "paid" notification is recorded and answered, and changes nothing (it used to be a 500).
    book(bill, finance_officer)
    receipt = payment_services.notification_receive(payload=notification_payload(settings, bill))
    bill.refresh_from_db()
    assert receipt.bill_id == bill.pk and bill.status == Bill.Status.REVERSED and bill.next_check_at is None


def test_the_public_payment_check_never_calls_a_reversed_bill_payable(seller, buyer, finance_officer):
    from pages.selectors import LIVE_BILL_STATUSES, PaymentCheckOutcome, payment_instruction_check

    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    bill = paid_va_bill(txn, "INTFLAGGED002", "9988776658", pay_code="9988776658", flag=Bill.Flag.REVERSED)
    book(bill, finance_officer)
    assert payment_instruction_check(text="9988776658").outcome == PaymentCheckOutcome.CLOSED_BILL
    # The class: only a bill being created or waiting for payment is live, whatever statuses are added.
    for status in Bill.Status.values:
        Bill.objects.filter(pk=bill.pk).update(status=status)
        live = payment_instruction_check(text="9988776658").outcome == PaymentCheckOutcome.LIVE_BILL
        assert live == (status in LIVE_BILL_STATUSES), status


def test_only_finance_with_a_reason_books_a_reported_reversal(client, seller, buyer, finance_officer,
                                                              customer_service_officer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    bill = Bill.objects.get(escrow_transaction=txn, status=Bill.Status.VERIFIED)
    with pytest.raises(StaffPaymentError) as not_reported:
        book(bill, finance_officer)
    assert not_reported.value.code == "not_reversed"  # Faspay never said so
    reversed_by_the_provider(txn)
    for staff, reason, code in ((customer_service_officer, REASON, "forbidden"), (buyer, REASON, "forbidden"),
                                (finance_officer, "   ", "reason_required")):
        with pytest.raises(StaffPaymentError) as refused:
            book(bill, staff, reason)
        assert refused.value.code == code
    url = reverse("admin:payments_bill_book_reversal", args=[bill.pk])
    client.force_login(customer_service_officer)
    assert client.post(url, {"reason": REASON}).status_code == 403
    txn.refresh_from_db()
    bill.refresh_from_db()
    assert txn.status == Status.VERIFIED and bill.status == Bill.Status.VERIFIED


# --- Faspay's reversal notification is acted on -------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_a_reversal_notification_for_a_verified_payment_freezes_it(faspay, accepted, buyer, seller):
    """Verified bills are no longer polled, so Faspay's notification is the only news of a reversal: it
    freezes the money at once, and leads to a status inquiry even though the bill is verified (it used to
    be skipped); a failed inquiry is retried by the poller, and its answer cross-checks the freeze."""
    bill = start(accepted, buyer, "702")
    faspay("bill_pay", trx_id=bill.provider_trx_id)
    refresh(bill, accepted)
    assert bill.status == Bill.Status.VERIFIED and bill.next_check_at is None
    faspay("fault", kind="http_500", scope="debit.inquiry", count=1)
    faspay("bill_reverse", trx_id=bill.provider_trx_id)
    refresh(bill)
    assert bill.flag == Bill.Flag.REVERSED and bill.next_check_at is not None  # the inquiry failed: asked again
    poll_now()
    refresh(bill, accepted)
    assert bill.flag == Bill.Flag.REVERSED and bill.next_check_at is None
    with pytest.raises(Exception) as refused:
        scenarios.advance(scenarios.advance(accepted, buyer, Status.SHIPPED), buyer, Status.CONFIRMED)
    assert getattr(refused.value, "code", "") == "payment_reversed"



@pytest.mark.django_db(transaction=True)
def test_faspays_signed_reversal_notice_freezes_the_money_while_no_inquiry_answers(faspay, accepted, buyer):
    """The notification is Faspay's signed word: its signature covers the bill and the status code, as an
    inquiry's answer would. The money is frozen on it at once; the inquiry after it only cross-checks. Before,
    the freeze waited for an inquiry to agree, so while Faspay's inquiry failed (for days, if it kept failing)
    the money Faspay had taken back stayed releasable to the seller."""
    bill = start(accepted, buyer, "702")
    faspay("bill_pay", trx_id=bill.provider_trx_id)
    refresh(bill, accepted)
    assert bill.status == Bill.Status.VERIFIED
    faspay("fault", kind="http_500", scope="debit.inquiry", count=1000)
    faspay("bill_reverse", trx_id=bill.provider_trx_id)
    refresh(bill)
    assert bill.flag == Bill.Flag.REVERSED
    frozen = AuditEntry.objects.get(action="payment.reversed", object_id=str(bill.pk))
    assert "notification" in frozen.reason
    poll_now()  # the cross-check fails again: nothing changes
    refresh(bill, accepted)
    assert bill.flag == Bill.Flag.REVERSED and bill.status == Bill.Status.VERIFIED
    with pytest.raises(Exception) as refused:
        scenarios.advance(scenarios.advance(accepted, buyer, Status.SHIPPED), buyer, Status.CONFIRMED)
    assert getattr(refused.value, "code", "") == "payment_reversed"


@pytest.mark.django_db(transaction=True)
def test_a_reversal_notice_then_confirmed_by_the_inquiry_is_recorded_once(faspay, accepted, buyer):
    bill = start(accepted, buyer, "702")
    faspay("bill_pay", trx_id=bill.provider_trx_id)
    faspay("bill_reverse", trx_id=bill.provider_trx_id)
    poll_now()
    refresh(bill)
    assert bill.flag == Bill.Flag.REVERSED and bill.next_check_at is None
    assert AuditEntry.objects.filter(action="payment.reversed", object_id=str(bill.pk)).count() == 1
    assert not AuditEntry.objects.filter(action="payment.status_after_reversal", object_id=str(bill.pk)).exists()


# --- Faspay contradicts a freeze: finance are told, and lift it when Faspay still holds the money -----

def _answer(bill, code):
    from django.utils import timezone

    from faspay import results
    from payments import services as payment_services

    Bill.objects.filter(pk=bill.pk).update(next_check_at=timezone.now())
    payment_services.bill_apply_status(bill_id=bill.pk, status=results.PaymentStatus(
        trx_id=bill.provider_trx_id, bill_no=bill.bill_no, status_code=code, status_description="",
        paid_amount=None, payment_reference="", paid_at=None))


def test_faspay_contradicting_a_freeze_tells_finance_who_lift_it_and_the_money_moves_again(
        client, seller, buyer, finance_officer, customer_service_officer, mailoutbox,
        django_capture_on_commit_callbacks):
    """A freeze on Faspay's word (a notification's 4) that Faspay's inquiry contradicts (2: paid) stays, the
    cautious side, but a person must decide: finance are emailed, and lift it from the admin with a reason
    when Faspay's report shows it still holds the payment. The flag the freeze replaced comes back."""
    from payments import services as payment_services

    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    bill = Bill.objects.get(escrow_transaction=txn, status=Bill.Status.VERIFIED)
    Bill.objects.filter(pk=bill.pk).update(flag=Bill.Flag.EXCESS)
    bill.refresh_from_db()
    payment_services._bill_flag_reversed(bill, source="payment notification")
    bill.save()
    with django_capture_on_commit_callbacks(execute=True):
        _answer(bill, "4")  # Faspay agrees: nobody needs telling
    assert not [m for m in mailoutbox if bill.bill_no in m.subject]
    with django_capture_on_commit_callbacks(execute=True):
        _answer(bill, "2")  # Faspay contradicts itself
    bill.refresh_from_db()
    assert bill.flag == Bill.Flag.REVERSED  # still frozen
    [alert] = [m for m in mailoutbox if bill.bill_no in m.subject]
    assert finance_officer.email in alert.to and txn.reference in alert.body
    with pytest.raises(Exception) as refused:
        scenarios.advance(scenarios.advance(txn, buyer, Status.SHIPPED), buyer, Status.CONFIRMED)
    assert getattr(refused.value, "code", "") == "payment_reversed"

    url = reverse("admin:payments_bill_lift_reversal", args=[bill.pk])
    client.force_login(customer_service_officer)
    assert client.post(url, {"reason": "report"}).status_code == 403
    client.force_login(finance_officer)
    listed = client.get(reverse("admin:payments_bill_changelist") + "?reversal=to_book")
    assert url in listed.content.decode()
    assert client.get(url).status_code == 200
    assert client.post(url, {"reason": "  "}).status_code == 200  # a reason is required: nothing changed
    bill.refresh_from_db()
    assert bill.flag == Bill.Flag.REVERSED
    done = client.post(url, {"reason": "Faspay report 30 Nov: payment_status_code 2, settled"}, follow=True)
    assert done.redirect_chain
    bill.refresh_from_db()
    assert bill.flag == Bill.Flag.EXCESS  # the flag the freeze replaced
    lifted = AuditEntry.objects.get(action="payment.reversal_lifted", object_id=str(bill.pk))
    assert lifted.actor == finance_officer and "settled" in lifted.reason
    with pytest.raises(StaffPaymentError) as again:
        payment_services.bill_reversal_lift(bill_id=bill.pk, actor=finance_officer, reason="twice")
    assert again.value.code == "not_reversed"
    confirmed = scenarios.advance(scenarios.advance(txn, buyer, Status.SHIPPED), buyer, Status.CONFIRMED)
    assert confirmed.status == Status.CONFIRMED  # the money moves again


def test_a_booked_reversal_cannot_be_lifted(seller, buyer, finance_officer):
    from payments import services as payment_services

    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    bill = reversed_by_the_provider(txn)
    book(bill, finance_officer)
    with pytest.raises(StaffPaymentError) as refused:
        payment_services.bill_reversal_lift(bill_id=bill.pk, actor=finance_officer, reason="report")
    assert refused.value.code == "not_reversed"


def test_a_reversal_notice_that_arrives_before_the_paid_one_still_freezes_the_payment(
        seller, buyer, settings, mailoutbox, finance_officer, django_capture_on_commit_callbacks):
    """Faspay retries a notification it could not deliver, so its "paid" can arrive after its "reversed".
    The reversal notice found the bill unpaid and could freeze nothing; it is kept, and the payment is
    frozen the moment the bill is paid, whatever a later inquiry answers (the inquiry alone used to decide)."""
    from django.utils import timezone

    from payments import services as payment_services
    from payments.selectors import payment_reversed
    from tests.payments.notifications import notification_payload

    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    now = timezone.now()
    bill = Bill.objects.create(escrow_transaction=txn, method="va", channel_code="702", bill_no="INTLATEPAID01",
                               amount=txn.amount_due, status=Bill.Status.PENDING, provider_trx_id="5566778899",
                               expires_at=now + timezone.timedelta(hours=24), creation_attempts=1)
    payment_services.notification_receive(payload=notification_payload(settings, bill, status="4"))
    bill.refresh_from_db()
    assert bill.status == Bill.Status.PENDING and bill.flag == ""
    payment_services.notification_receive(payload=notification_payload(settings, bill, status="2"))
    bill.refresh_from_db()
    assert bill.status == Bill.Status.PAID and bill.flag == Bill.Flag.REVERSED and payment_reversed(escrow_transaction=txn)
    with django_capture_on_commit_callbacks(execute=True):
        _answer(bill, "2")  # a stale "paid" from the inquiry: not placed, a person is told
    bill.refresh_from_db()
    assert bill.status == Bill.Status.PAID and bill.flag == Bill.Flag.REVERSED and bill.next_check_at is None
    assert [m for m in mailoutbox if bill.bill_no in m.subject]
    book(bill, finance_officer)  # finance settle it from Faspay's report: the transaction waits for a payment again
    bill.refresh_from_db()
    txn.refresh_from_db()
    assert bill.status == Bill.Status.REVERSED and txn.status == Status.CREATED


def test_a_lifted_freeze_on_a_payment_never_placed_is_placed_at_the_next_answer(
        seller, buyer, settings, finance_officer, django_capture_on_commit_callbacks):
    """The freeze stopped the payment before it was placed (the reversal notice came first): lifting it must
    not leave the bill paid, unplaced and asked about by nobody (second review)."""
    from django.utils import timezone

    from payments import services as payment_services
    from tests.payments.notifications import notification_payload

    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    bill = Bill.objects.create(escrow_transaction=txn, method="va", channel_code="702", bill_no="INTLIFTPAID01",
                               amount=txn.amount_due, status=Bill.Status.PENDING, provider_trx_id="5566778800",
                               expires_at=timezone.now() + timezone.timedelta(hours=24), creation_attempts=1)
    payment_services.notification_receive(payload=notification_payload(settings, bill, status="4"))
    payment_services.notification_receive(payload=notification_payload(settings, bill, status="2"))
    with django_capture_on_commit_callbacks(execute=True):
        _answer(bill, "2")
    bill.refresh_from_db()
    assert bill.status == Bill.Status.PAID and bill.flag == Bill.Flag.REVERSED and bill.next_check_at is None
    payment_services.bill_reversal_lift(bill_id=bill.pk, actor=finance_officer, reason="Faspay report: settled")
    bill.refresh_from_db()
    assert bill.flag == "" and bill.next_check_at is not None  # asked again at the next poll
    _answer(bill, "2")
    bill.refresh_from_db()
    txn.refresh_from_db()
    assert bill.status == Bill.Status.VERIFIED and txn.status == Status.VERIFIED


def test_a_freeze_that_did_not_record_the_flag_it_replaced_is_not_lifted_blind(seller, buyer, finance_officer):
    """Freezes recorded before the replaced flag was kept: lifting to "no flag" could turn a double or
    late payment into one that funds the escrow (second review). Refused; booking stays possible."""
    from payments import services as payment_services

    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    bill = reversed_by_the_provider(txn)
    with pytest.raises(StaffPaymentError) as refused:
        payment_services.bill_reversal_lift(bill_id=bill.pk, actor=finance_officer, reason="report")
    assert refused.value.code == "flag_unknown"
    bill.refresh_from_db()
    assert bill.flag == Bill.Flag.REVERSED


def test_finance_record_a_charge_from_faspays_report_over_an_earlier_reversal_notice(seller, buyer, finance_officer,
                                                                                    settings):
    """Faspay's report, read by finance, is Faspay's later word: a charge it shows on a cancelled bill is
    booked (and owed back to the buyer) even though a reversal notice about the bill was stored before."""
    from django.utils import timezone

    from payments import services as payment_services
    from payments.models import ProviderNotification
    from tests.payments.notifications import notification_payload

    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    bill = Bill.objects.create(escrow_transaction=txn, method="va", channel_code="702", bill_no="INTCHARGED001",
                               amount=txn.amount_due, status=Bill.Status.CANCELLED, provider_trx_id="5566778811",
                               expires_at=timezone.now() + timezone.timedelta(hours=24), creation_attempts=1)
    ProviderNotification.objects.create(trx_id=bill.provider_trx_id, bill_no=bill.bill_no, status_code="4", bill=bill,
                                        payload=notification_payload(settings, bill, status="4"))
    owed = payment_services.bill_record_charge_from_report(bill_id=bill.pk, amount=bill.amount,
                                                           trx_id=bill.provider_trx_id, actor=finance_officer,
                                                           reason="Faspay report 30 Nov: charged")
    escrow_services._open_refund_requests(owed)  # what the refund flow that asked does with it
    bill.refresh_from_db()
    assert bill.status == Bill.Status.VERIFIED and bill.flag != Bill.Flag.REVERSED
    assert sum(o.amount for o in owed) == bill.amount
