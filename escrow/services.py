"""The escrow's money flows that span apps. Each flow is one function that calls its steps by name,
in one database transaction, so no step money depends on can be skipped — there are no signal
receivers on the way (DESIGN.md §3).

Release to the seller: the buyer confirms (``escrow_confirm``) or the inspection period ends
(``escrow_auto_confirm``) →
  1. ``payments.selectors.payment_reversed`` — nothing is released on a payment the provider took back
     (the confirmation counts ``bills_reversed`` in its own write, after the lock);
  2. ``transactions.services.transaction_confirm`` / ``transaction_auto_confirm`` — escrow hold →
     seller payable + fee revenue;
  3. ``disbursements.services.seller_payout_plan`` — the seller's payout (1×24 working hours).

Refund after payment: the seller cannot deliver (``escrow_cancel_and_refund``) →
  0. ``payments.selectors.payment_reversed`` — nor is a payment the provider took back refunded (twice);
  1. ``transactions.services.transaction_refund`` — escrow hold → buyer refund payable;
  2. ``refunds.services.refund_request_for_escrow_refund`` — the request that carries it to the buyer.

Collections (the buyer's payment): a status inquiry (``bill_check``), an imported bank statement
(``statement_import``) or finance reading Faspay's report (``bill_record_provider_amount``) places a
paid bill →
  1. ``payments.services`` — escrow funded, or the money owed back (double, late, short, excess);
  2. ``refunds.services.refund_request_for_owed_payment`` — one request per Rupiah owed back.
The provider calls (status inquiry, re-posting an unanswered creation) happen before the database
transaction opens, never inside it.

Unmatched bank transfers: a statement credit no bill claims is booked to the suspense account as it
is imported (``payments.services.statement_line_import``); finance later matches it to its payer
(``statement_line_match_and_refund``) →
  1. ``payments.services.statement_line_assign`` — suspense → that transaction's buyer refund payable;
  2. ``refunds.services.refund_request_for_statement_line`` — the request that returns it.

A return refused at inspection: the seller rejected the goods the buyer sent back and INTRASA staff
upheld it (``escrow_return_rejection_uphold``; rule: ``refunds.policy``, rejections) →
  1. ``refunds.services.return_inspection_uphold`` — the decision recorded, the refund request closed as
     rejected, the return shipping INTRASA advanced taken back;
  2. ``transactions.services.transaction_release_refused_refund`` — the rest of the buyer refund payable
     of that request → seller payable + INTRASA's fee as on a release (the transaction is confirmed again);
  3. ``disbursements.services.seller_payout_plan`` (or ``payout_plan`` for a second seller payout, after a
     split) — the seller's payout;
  4. ``refunds.services.refund_notify_released`` — both parties are told.

A payment the provider took back: Faspay reported it reversed (``payments.services.bill_apply_status`` flags
the bill; every release and refund of it is refused meanwhile) and staff book it from Faspay's report
(``escrow_book_provider_reversal``) →
  1. ``payments.services.bill_book_reversal`` — out of the clearing account: from the escrow hold while it is
     held (``transactions.services.transaction_take_back_payment``: the transaction ends refunded, by the
     provider), else owed to INTRASA to recover; a payment never verified reopens its transaction;
     money owed back to the buyer and not sent leaves the buyer refund payable;
  2. ``refunds.services.refund_request_close_returned_by_provider`` — the refund requests that would have
     returned that money close (``refund_requests_of_reversed_payment``): the buyer has it from Faspay;
  3. ``disputes.services.dispute_close_payment_taken_back`` — a dispute of a transaction it ended closes.

Dispute resolution is the disputes app's own flow (``disputes.services``: release, refund or split,
then the refund request and the payout), since every step it needs sits below it.

``escrow.checks`` proves the result: no Rupiah owed to a buyer without its refund request, none
owed to a seller without its payout.
"""
from django.db import transaction
from django.utils.translation import gettext as _

from disbursements.models import Payout
from disbursements.services import payout_plan, seller_payout_plan
from disputes import services as dispute_services
from intrasa import locks
from payments import services as payment_services
from payments.models import Bill
from payments.selectors import bill_funded_transactions, bills_reversed, payment_reversed
from refunds import policy as refund_policy
from refunds import services as refund_services
from refunds.models import RefundRequest, ReturnShipment
from refunds.services import refund_request_for_escrow_refund, refund_request_for_owed_payment, refund_request_for_statement_line
from transactions import services as transaction_services
from transactions.models import EscrowTransaction
from transactions.selectors import refundable_in_full
from transactions.services import Refusal, TransactionActionError


def _payment_reversed_error() -> TransactionActionError:
    return TransactionActionError(_("The payment was reversed by the provider; INTRASA staff will contact "
                                    "you before anything is released."), code="payment_reversed")


def _lock_unless_reversed(escrow_transaction) -> EscrowTransaction:
    """Lock the transaction first (a reversal is recorded under the same lock), then refuse to
    release money of a payment the provider took back."""
    txn = locks.lock_transaction(escrow_transaction)
    if payment_reversed(escrow_transaction=txn):
        raise _payment_reversed_error()
    return txn


# --- releasing to the seller -----------------------------------------------------------------

def escrow_confirm(*, escrow_transaction, buyer) -> EscrowTransaction:
    """The buyer confirms receipt (FAQ step 5): release the money and plan the seller's payout."""
    with transaction.atomic():
        # Locked first (a reversal is recorded under the same lock); the confirmation's write
        # counts the reversed bills and refuses (rolling it back) if there is one.
        txn = locks.lock_transaction(escrow_transaction)
        txn = transaction_services.transaction_confirm(
            escrow_transaction=txn, buyer=buyer,
            refusals=[Refusal(bills_reversed(escrow_transaction=txn), _payment_reversed_error())])
        seller_payout_plan(escrow_transaction=txn, amount=txn.seller_receives, actor=buyer, first_release=True)
        return txn


def escrow_auto_confirm(*, escrow_transaction) -> EscrowTransaction | None:
    """The inspection period ended without a word from the buyer: the same release, by the system.
    ``None`` when the buyer acted first or a dispute froze the clock."""
    with transaction.atomic():
        txn = _lock_unless_reversed(escrow_transaction)
        confirmed = transaction_services.transaction_auto_confirm(escrow_transaction=txn)
        if confirmed is not None:
            seller_payout_plan(escrow_transaction=confirmed, amount=confirmed.seller_receives, first_release=True)
        return confirmed


# --- refunding the buyer --------------------------------------------------------------------

def escrow_cancel_and_refund(*, escrow_transaction, actor, reason: str) -> EscrowTransaction:
    """The seller cannot deliver after the buyer paid (out of stock, a changed delivery estimate the
    buyer refused): everything held goes back to the buyer, through a refund request. Not a payment the
    provider reversed: that money is back with the buyer already."""
    with transaction.atomic():
        txn = _lock_unless_reversed(escrow_transaction)
        amount = refundable_in_full(escrow_transaction=txn)  # what the buyer paid (before the refund posts)
        txn = transaction_services.transaction_refund(escrow_transaction=txn, actor=actor, reason=reason)
        refund_request_for_escrow_refund(escrow_transaction=txn, amount=amount, reason=reason)
        return txn


# --- a return refused at inspection -----------------------------------------------------------

def escrow_return_rejection_uphold(*, return_shipment, actor, reason: str,
                                   resend_paid_by: str = refund_policy.RESEND_SHIPPING_PAYER_DEFAULT):
    """INTRASA staff uphold the seller's rejection of the goods the buyer sent back, with their reason:
    the refund request is rejected and its money — owed to the buyer in the ledger since the dispute was
    decided — is released to the seller as on a confirmation, with the seller's payout planned
    (``refunds.policy``: rejections). Idempotent: a second click (or a concurrent one, queued behind the
    transaction's lock) finds the decision taken and moves nothing. The goods the buyer sent back stay
    the buyer's and travel back to them, the shipping paid by ``resend_paid_by`` (``refunds.policy``:
    returned goods after an upheld rejection). Returns the refund request."""
    shipment_pk = getattr(return_shipment, "pk", return_shipment)
    txn_pk = ReturnShipment.objects.values_list("refund_request__escrow_transaction_id", flat=True).get(pk=shipment_pk)
    with transaction.atomic():
        txn = _lock_unless_reversed(txn_pk)
        req = refund_services.return_inspection_uphold(return_shipment=shipment_pk, actor=actor, reason=reason,
                                                       resend_paid_by=resend_paid_by)
        if req is None:  # already upheld: the money moved then
            return RefundRequest.objects.get(return_shipment=shipment_pk)
        escrow_part = req.amount - req.uncovered_amount
        if not escrow_part:
            # Nothing of the escrow is left in this request (Faspay took the payment back and the request went
            # on for INTRASA's return-shipping advance alone, which ``return_inspection_uphold`` took back).
            refund_services.refund_notify_rejection_upheld(refund_request=req)
            return req
        seller_amount = transaction_services.transaction_release_refused_refund(
            escrow_transaction=txn, actor=actor, amount=escrow_part, reason=req.rejected_reason,
            refund_request_id=req.pk)
        if seller_amount:
            txn = EscrowTransaction.objects.select_related("seller").get(pk=txn.pk)
            if txn.payouts.filter(purpose=Payout.Purpose.SELLER_PAYOUT).exists():
                # A split paid the seller's own part already: this is a second payout, for this money.
                payout_plan(escrow_transaction=txn, purpose=Payout.Purpose.SELLER_PAYOUT, recipient=txn.seller,
                            amount=seller_amount, actor=actor,
                            reason=f"Refund {req.pk} refused (returned goods rejected) {txn.reference}")
            else:
                seller_payout_plan(escrow_transaction=txn, amount=seller_amount, actor=actor)
        refund_services.refund_notify_released(refund_request=req, seller_amount=seller_amount)
        return req


# --- collections ----------------------------------------------------------------------------

def _open_refund_requests(owed: list[payment_services.OwedBack]) -> None:
    if not owed:
        return
    bills = Bill.objects.in_bulk([o.bill_id for o in owed])
    # A shared bill (a milestone plan paid up front) owes back on each milestone's own transaction.
    txns = EscrowTransaction.objects.select_related("buyer").in_bulk([o.escrow_transaction_id for o in owed])
    for item in owed:
        refund_request_for_owed_payment(escrow_transaction=txns[item.escrow_transaction_id], bill=bills[item.bill_id],
                                        amount=item.amount, why=item.why)


def bill_check(*, bill_id: int, client=None) -> str:
    """Verify one bill with the provider and place its money; returns the status code seen ("" when
    there was nothing to apply)."""
    status = payment_services.bill_inquire(bill_id=bill_id, client=client)  # network: no transaction open
    if status is None:
        return ""
    with transaction.atomic():
        _open_refund_requests(payment_services.bill_apply_status(bill_id=bill_id, status=status))
    return status.status_code


def statement_import(*, rows: list[dict], staff) -> dict:
    """Import bank-statement lines of the escrow account, each in its own database transaction
    with the refund requests it makes necessary. Returns the count per outcome."""
    counts = {value: 0 for value in (payment_services.StatementLine.MATCHED, payment_services.StatementLine.UNMATCHED,
                                     payment_services.StatementLine.DUPLICATE)}
    for row in rows:
        with transaction.atomic():
            outcome = payment_services.statement_line_import(row=row, staff=staff)
            _open_refund_requests(outcome.owed_back)
        counts[outcome.result] += 1
    return counts


def bill_record_provider_amount(*, bill_id: int, amount: int, actor, reason: str, trx_id: str = "") -> None:
    """Finance records the amount Faspay's report shows for a paid bill; its money is placed."""
    with transaction.atomic():
        _open_refund_requests(payment_services.bill_record_provider_amount(
            bill_id=bill_id, amount=amount, actor=actor, reason=reason, trx_id=trx_id))


def statement_line_match_and_refund(*, line_id: int, reference: str, actor, reason: str):
    """Finance matches an unmatched credit of the escrow account to the buyer who sent it, with the
    reason; the money becomes owed back to that buyer and its refund request opens."""
    txn = EscrowTransaction.objects.filter(reference=(reference or "").strip().upper()).first()
    if txn is None:
        raise payment_services.StaffPaymentError(_("No transaction has this reference number."), code="unknown_reference")
    with transaction.atomic():
        line = payment_services.statement_line_assign(line_id=line_id, escrow_transaction_id=txn.pk, actor=actor,
                                                      reason=reason)
        txn = EscrowTransaction.objects.select_related("buyer").get(pk=txn.pk)
        return refund_request_for_statement_line(escrow_transaction=txn, line=line, actor=actor, reason=reason)


# --- a payment the provider took back ---------------------------------------------------------

def escrow_book_provider_reversal(*, bill_id: int, actor, reason: str) -> list[payment_services.ReversalBooked]:
    """Staff book a payment Faspay reported reversed (the module docstring's flow), in one database
    transaction: the ledger stops counting the money as collected, the refund requests that would have
    returned it close (the buyer has it from Faspay), and a transaction it ended has its dispute closed.
    Nothing changes when any step refuses."""
    with transaction.atomic():
        bill = Bill.objects.filter(pk=bill_id).first()  # none: the booking below says so
        carrying = [] if bill is None else refund_services.refund_requests_of_reversed_payment(
            bill=bill, funded_transaction_ids=bill_funded_transactions(bill=bill))
        try:  # a refund step's refusal is the booking's, told to staff the same way
            returned: dict[int, int] = {}
            for request in carrying:
                amount = refund_services.refund_returned_by_provider(request)
                returned[request.escrow_transaction_id] = returned.get(request.escrow_transaction_id, 0) + amount
            booked = payment_services.bill_book_reversal(bill_id=bill_id, actor=actor, reason=reason,
                                                         returned_to_buyer=returned)
            for request in carrying:
                refund_services.refund_request_close_returned_by_provider(refund_request=request, actor=actor,
                                                                          reason=reason)
        except refund_services.RefundError as exc:
            raise payment_services.StaffPaymentError(exc.message, code=exc.code) from None
        for item in booked:
            if item.was_disputed:
                dispute_services.dispute_close_payment_taken_back(
                    escrow_transaction=EscrowTransaction.objects.get(pk=item.escrow_transaction_id), actor=actor,
                    reason=reason)
        return booked


def bill_reversal_settle(*, bill_id: int, amount: int, how: str, actor, reason: str) -> int:
    """Finance record what they recovered of a booked reversal's receivable, or write it off
    (``payments.services.bill_reversal_settle``); returns what is still to recover."""
    with transaction.atomic():
        return payment_services.bill_reversal_settle(bill_id=bill_id, amount=amount, how=how, actor=actor,
                                                     reason=reason)
