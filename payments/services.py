"""Collecting the buyer's money (FAQ steps 2 and 3). Every change to a bill goes through here.

Rules that live in this module:

* A bill is created at Faspay *outside* any row lock: the intent (a ``creating`` bill with its
  ``bill_no``) is committed first, the provider is called, the answer is recorded in a new short
  transaction. A failure leaves a ``failed`` bill and a clear message; the buyer can try again.
* Switching method cancels the open bill at Faspay. If it is paid anyway, that payment is a double
  payment and is owed back to the buyer.
* A notification (signature checked, stored once per ``(trx_id, status)``) only moves the
  transaction to ``paid``. The status inquiry — or for bank transfers the imported bank statement —
  verifies it. The verified amount decides: exact → escrow; short → nothing is released, the money
  is owed back and staff see the flag; excess → the bill amount goes to escrow, the rest is owed
  back; a second successful payment → owed back ("pembayaran ganda").
* Lock order is always transaction row, then bill row.
"""
import datetime as dt
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from intrasa.money import format_rupiah
from ledger.models import AccountCategory, EntryKind
from ledger.services import credit, debit, entry_post
from notifications.services import notify
from transactions import services as transaction_services
from transactions.models import EscrowTransaction, Status
from workdays.calendar import working_calendar

from . import faspay
from .channels import CHANNELS, Method, channel_get
from .models import BankStatementLine, Bill, ProviderNotification
from .polling import next_check_at
from .signals import payment_owed_back

logger = logging.getLogger(__name__)

BANK_TRANSFER = "transfer"  # the pseudo channel code of a transfer to INTRASA's escrow account
OPEN = (Bill.Status.CREATING, Bill.Status.PENDING)


class PaymentError(Exception):
    """A refusal meant for the buyer; nothing was charged and nothing half-created remains."""

    def __init__(self, message: str, code: str = "refused"):
        super().__init__(message)
        self.message = message
        self.code = code


class UnknownBill(Exception):
    """A well-signed notification for a bill we never issued."""


def _lock_txn(pk: int) -> EscrowTransaction:
    return EscrowTransaction.objects.select_for_update(of=("self",)).select_related("seller", "buyer").get(pk=pk)


def _lock_bill(pk: int) -> Bill:
    return Bill.objects.select_for_update().get(pk=pk)


# --- creating bills -----------------------------------------------------------------------------

@dataclass
class _Started:
    bill: Bill
    needs_provider: bool
    to_cancel: Bill | None


def _new_bill_no(txn: EscrowTransaction) -> str:
    attempt = txn.bills.count() + 1
    return f"{txn.reference.replace('-', '')}{attempt:03d}"


def _unique_amount(amount_due: int) -> tuple[int, int]:
    """A bank-transfer amount no other open transfer has: the amount due minus a code of 1–999
    (the code is INTRASA's discount, so the buyer never pays more than quoted)."""
    taken = set(Bill.objects.filter(method=Method.BANK_TRANSFER, status=Bill.Status.PENDING,
                                    amount__gt=amount_due - 1000, amount__lt=amount_due)
                .values_list("amount", flat=True))
    free = [code for code in range(1, 1000) if amount_due - code not in taken]
    if not free:
        raise PaymentError(_("Bank transfer is busy right now; please choose another method."), code="no_code")
    code = secrets.choice(free)
    return amount_due - code, code


def _start(txn_id: int, buyer, channel_code: str) -> _Started:
    with transaction.atomic():
        txn = _lock_txn(txn_id)
        if txn.buyer_id != buyer.pk:
            raise PaymentError(_("Only the buyer who accepted the transaction can pay it."), code="forbidden")
        if txn.status != Status.CREATED:
            raise PaymentError(_("This transaction is not waiting for payment."), code="not_payable")
        now = timezone.now()
        if txn.payment_due_at and txn.payment_due_at <= now:
            raise PaymentError(_("The payment window has closed."), code="window_closed")
        channel = channel_get(channel_code)
        if channel_code != BANK_TRANSFER:
            if channel is None:
                raise PaymentError(_("Choose one of the payment methods shown."), code="unknown_channel")
            if channel.max_amount is not None and txn.amount_due > channel.max_amount:
                raise PaymentError(_("%(channel)s accepts at most %(max)s; please choose another method.")
                                   % {"channel": channel.name, "max": format_rupiah(channel.max_amount)},
                                   code="over_channel_limit")
        current = txn.bills.select_for_update().filter(status__in=OPEN).first()
        if current is not None and current.channel_code == channel_code:
            # Same method again: show the same bill, or retry a creation that did not finish.
            return _Started(current, current.status == Bill.Status.CREATING, None)
        to_cancel = None
        if current is not None:
            current.status = Bill.Status.CANCELLED
            current.cancelled_at = now
            current.next_check_at = now  # keep asking: it may have been paid meanwhile
            current.save(update_fields=["status", "cancelled_at", "next_check_at"])
            to_cancel = current
        expires_at = now + dt.timedelta(hours=settings.INTRASA_PAYMENT_WINDOW_HOURS)
        if channel_code == BANK_TRANSFER:
            amount, code = _unique_amount(txn.amount_due)
            bill = Bill.objects.create(
                escrow_transaction=txn, method=Method.BANK_TRANSFER, channel_code=BANK_TRANSFER,
                bill_no=_new_bill_no(txn), amount=amount, unique_code=code, status=Bill.Status.PENDING,
                pay_code=settings.INTRASA_ESCROW_BANK_ACCOUNT, expires_at=expires_at,
            )
        else:
            bill = Bill.objects.create(
                escrow_transaction=txn, method=channel.method, channel_code=channel.code,
                bill_no=_new_bill_no(txn), amount=txn.amount_due, expires_at=expires_at,
            )
        txn.payment_due_at = expires_at
        txn.save(update_fields=["payment_due_at", "updated_at"])
        transaction_services._event(txn, action="payment_method_chosen", actor=buyer, role="buyer",
                                    data={"channel": channel_code, "bill_no": bill.bill_no})
        return _Started(bill, channel_code != BANK_TRANSFER, to_cancel)


def payment_start(*, escrow_transaction, buyer, channel_code: str, client=None) -> Bill:
    """The buyer chooses a method: create (or show again) the bill the buyer pays."""
    pk = escrow_transaction.pk if isinstance(escrow_transaction, EscrowTransaction) else escrow_transaction
    for _attempt in range(3):
        try:
            started = _start(pk, buyer, channel_code)
            break
        except IntegrityError:  # two clicks at once, or a unique-amount collision: look again
            continue
    else:
        raise PaymentError(_("Please try again."), code="busy")
    client = client or faspay.default_client()
    if started.to_cancel is not None and started.to_cancel.provider_trx_id:
        _cancel_at_provider(client, started.to_cancel)
    if not started.needs_provider:
        return started.bill
    bill = started.bill
    txn = bill.escrow_transaction
    try:
        created = client.create_bill(faspay.BillRequest(
            bill_no=bill.bill_no, bill_description=f"INTRASA {txn.reference}", amount=bill.amount,
            channel_code=bill.channel_code, expires_at=bill.expires_at, customer_number=str(buyer.pk),
            customer_name=buyer.full_name, customer_email=buyer.email, customer_phone=buyer.phone,
            item_name=txn.title, created_at=bill.created_at,
        ))
    except faspay.FaspayError as exc:
        _bill_mark_failed(bill.pk, str(exc))
        if isinstance(exc, faspay.FaspayRejected):
            raise PaymentError(_("The payment provider refused this method for this transaction. Please "
                                 "choose another method."), code="provider_refused") from exc
        raise PaymentError(_("The payment provider is not answering right now. Nothing was charged; "
                             "please try again in a moment."), code="provider_unavailable") from exc
    return _bill_record_created(bill.pk, created)


def _cancel_at_provider(client, bill: Bill) -> None:
    try:
        client.cancel(trx_id=bill.provider_trx_id, bill_no=bill.bill_no, reason="Buyer chose another method")
    except faspay.FaspayError:
        # Not fatal: polling keeps asking about this bill, and if it is paid anyway the payment
        # is a double payment owed back to the buyer.
        logger.warning("could not cancel bill %s at Faspay", bill.bill_no, exc_info=True)


def _bill_mark_failed(bill_id: int, error: str) -> None:
    with transaction.atomic():
        bill = _lock_bill(bill_id)
        if bill.status == Bill.Status.CREATING:
            bill.status = Bill.Status.FAILED
            bill.error = error[:255]
            bill.save(update_fields=["status", "error"])


def _bill_record_created(bill_id: int, created: faspay.CreatedBill) -> Bill:
    with transaction.atomic():
        bill = _lock_bill(bill_id)
        if bill.status != Bill.Status.CREATING:
            return bill
        bill.status = Bill.Status.PENDING
        bill.provider_trx_id = created.trx_id
        bill.pay_code = created.trx_id if bill.method != Method.QRIS else ""
        bill.qr_content = created.qr_content
        bill.redirect_url = created.redirect_url
        bill.next_check_at = next_check_at(bill, timezone.now())
        bill.save(update_fields=["status", "provider_trx_id", "pay_code", "qr_content", "redirect_url",
                                 "next_check_at"])
        return bill


# --- notifications ------------------------------------------------------------------------------

def notification_receive(*, payload: dict, client=None) -> dict:
    """Handle one payment notification; return the body Faspay expects.

    Raises ``faspay.InvalidNotification`` (bad signature or shape) or ``UnknownBill``; both change
    nothing.
    """
    client = client or faspay.default_client()
    notification = client.parse_notification(payload)
    bill = Bill.objects.filter(bill_no=notification.bill_no).first()
    # Only a Faspay bill that Faspay created under this trx_id: never a bank transfer, never a bill
    # whose trx_id we do not know or is another.
    if (bill is None or bill.method == Method.BANK_TRANSFER or channel_get(bill.channel_code) is None
            or bill.provider_trx_id != notification.trx_id):
        raise UnknownBill(notification.bill_no)
    with transaction.atomic():
        txn = _lock_txn(bill.escrow_transaction_id)
        bill = _lock_bill(bill.pk)
        record, created = ProviderNotification.objects.get_or_create(
            provider="faspay", trx_id=notification.trx_id, status_code=notification.status_code,
            defaults={"bill_no": notification.bill_no, "payload": payload, "bill": bill},
        )
        if not created:
            ProviderNotification.objects.filter(pk=record.pk).update(deliveries=F("deliveries") + 1)
            return client.notification_reply(notification)
        if notification.status_code == faspay.STATUS_PAID and bill.status not in (Bill.Status.PAID,
                                                                                   Bill.Status.VERIFIED):
            was_open = bill.status in OPEN
            bill.status = Bill.Status.PAID
            bill.paid_at = notification.paid_at or timezone.now()
            bill.paid_amount = notification.paid_amount
            bill.payment_reference = notification.payment_reference
            bill.next_check_at = timezone.now()
            bill.save(update_fields=["status", "paid_at", "paid_amount", "payment_reference", "next_check_at"])
            if was_open and txn.status == Status.CREATED:
                transaction_services.transaction_mark_paid(
                    escrow_transaction=txn, payment_reference=notification.payment_reference or notification.trx_id,
                    amount=notification.paid_amount or bill.amount)
        from .tasks import check_bill

        check_bill.delay_on_commit(bill.pk)
    return client.notification_reply(notification)


# --- verification ---------------------------------------------------------------------------

def bill_check(*, bill_id: int, client=None) -> str:
    """Ask Faspay for the bill's status and apply the answer. Returns the status code seen."""
    bill = Bill.objects.only("pk", "method", "provider_trx_id", "status", "bill_no", "created_at").get(pk=bill_id)
    if bill.method == Method.BANK_TRANSFER or not bill.provider_trx_id or bill.status == Bill.Status.VERIFIED:
        return ""
    client = client or faspay.default_client()
    try:
        status = client.inquiry(trx_id=bill.provider_trx_id, bill_no=bill.bill_no)
    except faspay.FaspayError:
        logger.warning("status inquiry for %s failed; polling will retry", bill.bill_no, exc_info=True)
        Bill.objects.filter(pk=bill.pk).update(next_check_at=next_check_at(bill, timezone.now()),
                                               checks=F("checks") + 1)
        return ""
    bill_apply_status(bill_id=bill.pk, status=status)
    return status.status_code


STILL_WAITING = (faspay.STATUS_UNPROCESSED, faspay.STATUS_IN_PROCESS, faspay.STATUS_UNKNOWN)


def bill_apply_status(*, bill_id: int, status: faspay.PaymentStatus) -> Bill | None:
    """Record what the status inquiry said (idempotent: a verified bill stays verified)."""
    bill = Bill.objects.get(pk=bill_id)
    now = timezone.now()
    if status.status_code in STILL_WAITING and bill.expires_at + dt.timedelta(days=1) >= now:
        # The common answer while polling: nothing happened, only the next look is scheduled.
        Bill.objects.filter(pk=bill_id).update(checks=F("checks") + 1, next_check_at=next_check_at(bill, now))
        return None
    with transaction.atomic():
        txn = _lock_txn(bill.escrow_transaction_id)
        bill = _lock_bill(bill_id)
        now = timezone.now()
        bill.checks += 1
        bill.next_check_at = next_check_at(bill, now)
        code = status.status_code
        if code == faspay.STATUS_PAID and bill.status != Bill.Status.VERIFIED:
            paid = status.paid_amount if status.paid_amount is not None else (bill.paid_amount or bill.amount)
            _settle_paid_bill(txn, bill, paid=paid, reference=status.payment_reference or bill.payment_reference,
                              paid_at=status.paid_at or bill.paid_at or now)
        elif code == faspay.STATUS_REVERSED and bill.status in (Bill.Status.PAID, Bill.Status.VERIFIED):
            if bill.flag != Bill.Flag.REVERSED:
                bill.flag = Bill.Flag.REVERSED
                audit_record(actor=None, action="payment.reversed", target=bill,
                             reason="Faspay reports payment_status_code 4 (reversal)",
                             data={"trx_id": bill.provider_trx_id})
            bill.next_check_at = None
        elif code in (faspay.STATUS_EXPIRED, faspay.STATUS_CANCELLED, faspay.STATUS_FAILED, faspay.STATUS_NO_BILL):
            if bill.status in OPEN or bill.status == Bill.Status.CANCELLED:
                bill.status = {faspay.STATUS_EXPIRED: Bill.Status.EXPIRED}.get(code, Bill.Status.CANCELLED)
            bill.next_check_at = None
        elif bill.expires_at + dt.timedelta(days=1) < now and bill.status in OPEN + (Bill.Status.CANCELLED,):
            bill.status = Bill.Status.EXPIRED  # the provider keeps saying "unprocessed" long after expiry
            bill.next_check_at = None
        bill.save()
        return bill


def _owe_back(txn, bill, amount: int, why: str) -> None:
    entry_post(
        idempotency_key=f"bill:{bill.pk}:owed-back:{why}", kind=EntryKind.PAYMENT_UNMATCHED,
        memo=f"{txn.reference} {bill.bill_no} {why} payment owed back to the buyer", escrow_transaction=txn,
        lines=[debit(_clearing_for(bill), amount), credit(AccountCategory.BUYER_REFUND_PAYABLE, amount)],
    )
    payment_owed_back.send(sender=Bill, escrow_transaction=txn, bill=bill, amount=amount, why=why)


def _clearing_for(bill: Bill) -> str:
    return AccountCategory.ESCROW_BANK if bill.method == Method.BANK_TRANSFER else AccountCategory.PROVIDER_CLEARING


def _settle_paid_bill(txn, bill, *, paid: int, reference: str, paid_at) -> None:
    """Money for ``bill`` is confirmed: put it in escrow or owe it back (module docstring)."""
    bill.status = Bill.Status.VERIFIED
    bill.paid_amount = paid
    bill.payment_reference = reference
    bill.paid_at = paid_at
    bill.verified_at = timezone.now()
    bill.next_check_at = None
    channel = CHANNELS.get(bill.channel_code)
    bill.settlement_expected_at = working_calendar().add_working_days(paid_at, channel.settlement_days if channel else 0)
    other_verified = txn.bills.filter(status=Bill.Status.VERIFIED).exclude(pk=bill.pk).exclude(flag=Bill.Flag.DOUBLE)
    payable = txn.status in (Status.CREATED, Status.PAID) and not other_verified.exists()
    if not payable:
        bill.flag = Bill.Flag.DOUBLE
        _owe_back(txn, bill, paid, "double")
        _alert(txn, bill, "payment_double")
        return
    if paid < bill.amount:
        bill.flag = Bill.Flag.SHORT
        _owe_back(txn, bill, paid, "short")
        _alert(txn, bill, "payment_short")
        if txn.status == Status.PAID:  # the buyer may pay the full amount again
            transaction_services.transaction_reopen_for_payment(
                escrow_transaction=txn, reason=f"{bill.bill_no}: paid {paid} of {bill.amount}")
        return
    if txn.status == Status.CREATED:  # the notification was lost; polling found the payment
        transaction_services.transaction_mark_paid(escrow_transaction=txn, payment_reference=reference,
                                                   amount=paid)
    funding = [debit(_clearing_for(bill), bill.amount)]
    if bill.unique_code:
        funding.append(debit(AccountCategory.PAYMENT_DISCOUNT, bill.unique_code))
    transaction_services.transaction_verify(
        escrow_transaction=txn, payment_reference=reference or bill.bill_no,
        amount_received=bill.amount + bill.unique_code, funding=funding)
    if paid > bill.amount:
        bill.flag = Bill.Flag.EXCESS
        _owe_back(txn, bill, paid - bill.amount, "excess")
        _alert(txn, bill, "payment_excess")


def _alert(txn, bill, kind: str) -> None:
    """Tell the buyer and leave an audit row staff can filter on (the bill's flag is the queue)."""
    audit_record(actor=None, action=f"payment.{bill.flag}", target=bill,
                 data={"reference": txn.reference, "paid": bill.paid_amount, "bill": bill.amount})
    if txn.buyer is not None:
        notify(event_key=f"bill:{bill.pk}:{kind}", kind=kind, recipient=txn.buyer,
               context={"reference": txn.reference, "title": txn.title, "seller": txn.seller.full_name,
                        "amount": format_rupiah(bill.paid_amount or 0), "due": format_rupiah(bill.amount)},
               link=txn.get_absolute_url())


# --- bank transfer: the bank statement is the provider ------------------------------------------

@dataclass
class StatementImportResult:
    imported: int
    duplicates: int
    matched: list
    unmatched: list


def statement_import(*, rows: list[dict], staff) -> StatementImportResult:
    """Import credit lines of the escrow account; each one that matches an open bank-transfer
    bill's unique amount verifies that payment. Lines are stored once (bank reference + date +
    amount), so importing the same file twice changes nothing."""
    result = StatementImportResult(0, 0, [], [])
    for row in rows:
        with transaction.atomic():
            line, created = BankStatementLine.objects.get_or_create(
                bank_reference=row["bank_reference"], booked_on=row["booked_on"], amount=row["amount"],
                defaults={"description": row["description"][:255], "imported_by": staff},
            )
            if not created:
                result.duplicates += 1
                continue
            result.imported += 1
            bill = (Bill.objects.filter(method=Method.BANK_TRANSFER, status=Bill.Status.PENDING, amount=line.amount)
                    .order_by("created_at").first())
            if bill is None:
                result.unmatched.append(line)
                continue
            txn = _lock_txn(bill.escrow_transaction_id)
            bill = _lock_bill(bill.pk)
            if bill.status != Bill.Status.PENDING:  # another import settled it meanwhile
                result.unmatched.append(line)
                continue
            paid_at = timezone.make_aware(dt.datetime.combine(line.booked_on, dt.time(12, 0)))
            _settle_paid_bill(txn, bill, paid=line.amount, reference=line.bank_reference, paid_at=paid_at)
            bill.save()
            line.matched_bill = bill
            line.save(update_fields=["matched_bill"])
            audit_record(actor=staff, action="bank_statement.match", target=bill,
                         data={"line": line.pk, "amount": line.amount})
            result.matched.append(line)
    return result
