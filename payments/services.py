"""Collecting the buyer's money (FAQ steps 2 and 3). Every change to a bill goes through here.

The rule behind everything in this module: **every Rupiah the provider collected is in the ledger at
its true amount** — held in escrow, or owed back to the buyer — per transaction.

* A bill is created at Faspay *outside* any row lock: the intent (a ``creating`` bill with its
  ``bill_no``) is committed first, the provider is called, the answer is recorded in a new short
  transaction. A refusal leaves a ``failed`` bill. An unanswered call (timeout, 5xx) leaves the bill
  ``creating``: Faspay may have created it, so it is re-posted with the same ``bill_no`` (by the
  buyer's next try, or by the poller) until Faspay says what it did. A bill abandoned while its
  creation is unconfirmed is still re-posted, to learn its ``trx_id`` and cancel it at Faspay.
* Any bill INTRASA ever sent may be paid — pending, cancelled, expired, failed or never confirmed.
  A notification for one of our ``bill_no`` whose ``trx_id`` we never learnt adopts that ``trx_id``.
  Every such payment is placed.
* A notification (signature checked, stored once per ``(trx_id, status)``) only moves the
  transaction to ``paid``. The status inquiry — or for bank transfers the imported bank statement —
  verifies it. The amount comes only from a source that states it (``Bill.AmountSource``): the
  notification's ``payment_total``, the bank statement, or staff reading Faspay's report. Faspay's
  status inquiry states no amount, and no channel is documented as closed-amount
  (``payments.channels.CLOSED_AMOUNT_DECISION``): a paid bill with no stated amount waits, nothing
  is released, and finance is alerted.
* The known amount decides: the first payment that covers the bill funds the escrow (the excess is
  owed back); a short payment is owed back and the transaction waits for a full payment again; any
  payment after the escrow was funded is a double payment, and a payment for a transaction that
  closed unpaid is a late payment — both owed back in full.
* Lock order is always transaction row, then bill row (``intrasa.locks``).

Owing money back is the first half of a flow: the buyer's refund request is its second. The
services that can owe money back (``bill_apply_status``, ``statement_line_import``,
``bill_record_provider_amount``) return every ``OwedBack`` they posted, and their callers —
the flows in ``escrow.services``, which call them inside one database transaction — open the refund
request for each by name. Nothing here knows the refunds app (it sits above payments).
"""
import datetime as dt
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition

from audit.models import AuditEntry
from audit.services import audit_record
from faspay import debit as faspay_debit
from faspay import errors, results
from intrasa import locks
from intrasa.errors import ServiceError
from intrasa.jobs import enqueue
from intrasa.money import format_rupiah
from ledger.models import AccountCategory, EntryKind, JournalEntry
from ledger.services import credit, debit, entry_post
from notifications.services import notify
from transactions import services as transaction_services
from transactions.models import HELD_STATES, EscrowTransaction, Status, TransactionEvent
from transactions.writes import Update, write_together
from workdays.calendar import working_calendar

from . import selectors
from .channels import CHANNELS, Method, channel_get
from .models import BankStatementLine, Bill, BillShare, ProviderNotification
from .polling import INQUIRY_ALERT_AFTER, creation_retry_at, next_check_at

logger = logging.getLogger(__name__)

BANK_TRANSFER = "transfer"  # the pseudo channel code of a transfer to INTRASA's escrow account
OPEN = (Bill.Status.CREATING, Bill.Status.PENDING)
# A paid bill whose amount no source stated is asked about for this long (a late notification
# may still come); after that only staff can settle it, from Faspay's report.
AWAIT_AMOUNT_POLLING = dt.timedelta(days=1)


class PaymentError(ServiceError):
    """A refusal meant for the buyer; nothing was charged and nothing half-created remains."""


class UnknownBill(Exception):
    """A well-signed notification for a bill we never issued."""


def _lock_txn(pk: int) -> EscrowTransaction:
    return locks.lock_transaction(pk)


def _lock_bill(pk: int) -> Bill:
    return locks.lock(Bill, pk)


@dataclass(frozen=True)
class OwedBack:
    """Money of ``bill`` posted to the buyer's refund payable (``why``: double, late, short or
    excess): the caller opens the buyer's refund request for it."""

    escrow_transaction_id: int
    bill_id: int
    amount: int
    why: str


def _refresh(txn: EscrowTransaction) -> None:
    """The transaction services lock and change their own copy of the (already locked) row: read
    its new state back before deciding anything else on ``txn``."""
    txn.refresh_from_db()


# --- creating bills -----------------------------------------------------------------------------

@dataclass
class _Started:
    bill: Bill
    needs_provider: bool
    to_withdraw: list[Bill]
    # A bill ``_start`` just wrote: its first Post Data is counted in its row already, and it pays
    # ``members`` transactions (what Post Data's description says), so neither is asked again.
    members: int | None = None


def _covered_ids(bill: Bill) -> list[int]:
    """The transactions ``bill`` pays: its shares', or its own."""
    return list(bill.shares.order_by("pk").values_list("escrow_transaction_id", flat=True)) or \
        [bill.escrow_transaction_id]


def _lock_bill_transactions(bill: Bill) -> EscrowTransaction:
    """Lock every transaction ``bill`` pays (primary-key order), before the bill itself
    (``intrasa.locks``); return the bill's own (first) transaction, with its parties."""
    rows = locks.lock_all(EscrowTransaction.objects.filter(pk__in=_covered_ids(bill))
                          .select_related("seller", "buyer"))
    return next(row for row in rows if row.pk == bill.escrow_transaction_id)


def _new_bill_no(txn: EscrowTransaction, bills_so_far: int) -> str:
    return f"{txn.reference.replace('-', '')}{bills_so_far + 1:03d}"


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


def _start(escrow_transaction: EscrowTransaction, buyer, channel_code: str) -> _Started:
    """Record the bill the buyer pays (or find the open one again). A transaction billed together
    with others (``selectors.bill_group_register``) gets one bill for all of them that still wait for payment;
    the bill belongs to the first of them and has a share per transaction."""
    txn_id = escrow_transaction.pk
    together = selectors.billed_together(escrow_transaction=escrow_transaction)
    with transaction.atomic():
        # With their parties and partner binding joined, as ``locks.lock_transaction`` gives them: the
        # timeline's partner listener reads it at every event, without another query.
        txns = {row.pk: row for row in locks.lock_all(
            EscrowTransaction.objects.filter(pk__in=together).select_related("seller", "buyer", "partner_transaction"))}
        txn = txns[txn_id]
        if txn.buyer_id != buyer.pk:
            raise PaymentError(_("Only the buyer who accepted the transaction can pay it."), code="forbidden")
        if txn.status != Status.CREATED:
            raise PaymentError(_("This transaction is not waiting for payment."), code="not_payable")
        now = timezone.now()
        if txn.payment_due_at and txn.payment_due_at <= now:
            raise PaymentError(_("The payment window has closed."), code="window_closed")
        # Of the group, those still waiting for this buyer's payment (a milestone paid or closed
        # meanwhile is not billed again), the first one first.
        group = [txns[pk] for pk in together if pk in txns and txns[pk].status == Status.CREATED
                 and txns[pk].buyer_id == buyer.pk and not (txns[pk].payment_due_at and txns[pk].payment_due_at <= now)]
        lead, amount_due = group[0], sum(member.amount_due for member in group)
        channel = channel_get(channel_code)
        if channel_code != BANK_TRANSFER:
            if channel is None:
                raise PaymentError(_("Choose one of the payment methods shown."), code="unknown_channel")
            if channel.max_amount is not None and amount_due > channel.max_amount:
                raise PaymentError(_("%(channel)s accepts at most %(max)s; please choose another method.")
                                   % {"channel": channel.name, "max": format_rupiah(channel.max_amount)},
                                   code="over_channel_limit")
        member_ids = [member.pk for member in group]
        # Every bill of these transactions, locked in one statement: the open ones are shown again or
        # withdrawn, and the lead's own bills number the next one (closed bills are never written
        # again, so locking them too costs nothing but spares a COUNT).
        bills = locks.lock_all(Bill.objects.filter(
            Q(escrow_transaction__in=member_ids)
            | Q(pk__in=BillShare.objects.filter(escrow_transaction__in=member_ids).values("bill"))))
        open_bills = [bill for bill in bills if bill.status in OPEN]
        bills_so_far = sum(1 for bill in bills if bill.escrow_transaction_id == lead.pk)
        for current in open_bills:
            if current.channel_code == channel_code and _covered_ids(current) == member_ids:
                # Same method for the same transactions: show the same bill, or re-post a creation
                # Faspay never answered.
                return _Started(current, current.status == Bill.Status.CREATING, [])
        withdrawn = []
        for current in open_bills:  # another method, or another set of transactions: withdraw it
            withdrawn.append(Update(current, expected={"status": current.status}))
            current.cancel()
            current.cancelled_at = now
            current.next_check_at = now  # keep asking: it may have been paid meanwhile
        expires_at = now + dt.timedelta(hours=settings.INTRASA_PAYMENT_WINDOW_HOURS)
        code = 0
        if channel_code == BANK_TRANSFER:
            amount, code = _unique_amount(amount_due)
            bill = Bill(
                escrow_transaction=lead, method=Method.BANK_TRANSFER, channel_code=BANK_TRANSFER,
                bill_no=_new_bill_no(lead, bills_so_far), amount=amount, unique_code=code, status=Bill.Status.PENDING,
                pay_code=settings.INTRASA_ESCROW_BANK_ACCOUNT, expires_at=expires_at,
            )
        else:
            assert channel is not None  # every code but BANK_TRANSFER was checked to be a channel above
            # Counted as posted from the start: the intent is committed before Post Data goes out (a
            # notification may come back before its answer does, and must find the bill posted), and
            # a post that never went out is one never answered (re-posted under the same bill_no).
            bill = Bill(
                escrow_transaction=lead, method=channel.method, channel_code=channel.code,
                bill_no=_new_bill_no(lead, bills_so_far), amount=amount_due, expires_at=expires_at,
                creation_attempts=1,
            )
        shares = [BillShare(bill=bill, escrow_transaction=member,
                            amount=member.amount_due - (code if member.pk == lead.pk else 0))
                  for member in group] if len(group) > 1 else []
        for member in group:
            # Every transaction the bill pays waits as long as the bill can be paid.
            member.payment_due_at = expires_at
        if withdrawn:
            # A statement of its own, before the new bill: one_open_bill_per_transaction holds only
            # once the old bill is withdrawn, and the parts of one WITH run in no promised order.
            write_together(updates=withdrawn)
        # The new bill and its shares, the transactions' rows and their events: one statement
        # (transactions.writes).
        write_together(
            updates=[*(Update(member, ["payment_due_at", "updated_at"], expected={"status": member.status})
                                   for member in group)],
            inserts=[bill, *shares, *(TransactionEvent(
                escrow_transaction=member, action="payment_method_chosen", actor=buyer,
                actor_role=TransactionEvent.Role.BUYER,
                data={"channel": channel_code, "bill_no": bill.bill_no,
                      **({"together": [other.reference for other in group]} if len(group) > 1 else {})})
                for member in group)])
        return _Started(bill, channel_code != BANK_TRANSFER, open_bills, members=len(group))


def payment_start(*, escrow_transaction, buyer, channel_code: str, client=None) -> Bill:
    """The buyer chooses a method: create (or show again) the bill the buyer pays."""
    if not isinstance(escrow_transaction, EscrowTransaction):
        escrow_transaction = EscrowTransaction.objects.get(pk=escrow_transaction)
    for _attempt in range(3):
        try:
            started = _start(escrow_transaction, buyer, channel_code)
            break
        except IntegrityError:  # two clicks at once, or a unique-amount collision: look again
            continue
    else:
        raise PaymentError(_("Please try again."), code="busy")
    client = client or faspay_debit.default_client()
    for bill in started.to_withdraw:
        _withdraw_at_provider(client, bill)
    if not started.needs_provider:
        return started.bill
    try:
        return _post_bill(started.bill.pk, client, bill=started.bill, members=started.members)
    except errors.FaspayRejected as exc:
        raise PaymentError(_("The payment provider refused this method for this transaction. Please "
                             "choose another method."), code="provider_refused") from exc
    except errors.FaspayUnavailable as exc:
        raise PaymentError(_("The payment provider is not answering right now. Please try again in a "
                             "moment: if the bill was created meanwhile, you will see the same one, never "
                             "a second bill for the same method."), code="provider_unavailable") from exc


def _bill_request(bill: Bill, members: int | None = None) -> faspay_debit.BillRequest:
    """What Post Data sends for ``bill``; built only from the bill's own rows, so a re-post is the
    same request (Faspay returns the same bill for the same ``bill_no`` and data). ``members``: how
    many transactions it pays, when the caller just wrote its shares (one bill, one transaction,
    has none)."""
    txn = bill.escrow_transaction
    buyer = txn.buyer
    # Bills are created only for the buyer bound to the transaction (_start), who is never unbound.
    assert buyer is not None
    # A shared bill names its first transaction and how many more.
    others = (bill.shares.count() if members is None else members) - 1
    description = f"INTRASA {txn.reference}" + (f" +{others}" if others > 0 else "")
    return faspay_debit.BillRequest(
        bill_no=bill.bill_no, bill_description=description, amount=bill.amount,
        channel_code=bill.channel_code, expires_at=bill.expires_at, customer_number=str(buyer.pk),
        customer_name=buyer.full_name, customer_email=buyer.email, customer_phone=buyer.phone,
        # Faspay keeps 50 characters of the item: a shared bill's count of further transactions survives.
        item_name=f"{txn.title[:40]} (+{others})" if others > 0 else txn.title, created_at=bill.created_at,
    )


def _post_bill(bill_id: int, client, bill: Bill | None = None, members: int | None = None) -> Bill:
    """Send Post Data for ``bill_id`` (first time or again, same ``bill_no``) and record the answer.
    Raises the provider's exception after recording it, so the caller can tell the buyer.
    ``bill``: the row as ``_start`` just wrote it, with its transaction and buyer (no need to read
    it again: Post Data is built only from fields fixed at creation); ``members``: given for such a
    bill, whose first post its creation counted (``_start``) and whose shares it wrote."""
    if bill is None or not Bill.escrow_transaction.is_cached(bill):
        bill = Bill.objects.select_related("escrow_transaction__buyer").get(pk=bill_id)
    if members is None:  # a re-post: counted before it goes out, in its own committed statement
        Bill.objects.filter(pk=bill_id).update(creation_attempts=F("creation_attempts") + 1)
    try:
        created = client.create_bill(_bill_request(bill, members))
    except errors.FaspayRejected as exc:
        _bill_record_refusal(bill_id, exc)
        raise
    except errors.FaspayUnavailable as exc:
        _bill_record_unanswered(bill_id, str(exc))
        raise
    bill = _bill_record_created(bill_id, created, as_written=bill if members is not None else None)
    if bill.status == Bill.Status.CANCELLED:
        _cancel_at_provider(client, bill)  # abandoned while unconfirmed: now we can cancel it
    return bill


def bill_confirm_creation(*, bill_id: int, client=None) -> Bill:
    """Find out what Faspay did with a Post Data it never answered: re-post the same bill."""
    bill = Bill.objects.get(pk=bill_id)
    if bill.provider_trx_id or bill.channel_code == BANK_TRANSFER or \
            bill.status not in (Bill.Status.CREATING, Bill.Status.CANCELLED):
        return bill
    try:
        return _post_bill(bill_id, client or faspay_debit.default_client())
    except errors.FaspayError:
        logger.warning("re-posting bill %s did not settle its creation", bill.bill_no, exc_info=True)
        return Bill.objects.get(pk=bill_id)


# What Faspay's answer to Post Data changes on a bill.
_CREATED_FIELDS = ["provider_trx_id", "pay_code", "qr_content", "redirect_url", "error", "status", "next_check_at"]


def _bill_record_created(bill_id: int, created: results.CreatedBill, as_written: Bill | None = None) -> Bill:
    """Record Faspay's answer to Post Data. ``as_written``: the bill as ``_start`` wrote it (being
    created, no trx_id): one conditional UPDATE records the answer if the row is still so — it
    waits for and re-checks any concurrent writer, as the lock would — and only when something
    came first (a notification, the buyer's withdrawal) is the row read under its lock."""
    if as_written is not None and as_written.status == Bill.Status.CREATING and not as_written.provider_trx_id:
        try:
            with transaction.atomic():
                _apply_created(as_written, created, timezone.now())
                write_together(updates=[Update(as_written, _CREATED_FIELDS,
                                               expected={"status": Bill.Status.CREATING, "provider_trx_id": ""})])
            return as_written
        except ConcurrentTransition:
            pass  # the row changed since it was written: read it under its lock below
    with transaction.atomic():
        bill = _lock_bill(bill_id)
        if bill.provider_trx_id:
            return bill  # a notification (or another re-post) told us first
        _apply_created(bill, created, timezone.now())
        bill.save()
        return bill


def _apply_created(bill: Bill, created: results.CreatedBill, now) -> None:
    bill.provider_trx_id = created.trx_id
    bill.pay_code = created.trx_id if bill.method != Method.QRIS else ""
    bill.qr_content = created.qr_content
    bill.redirect_url = created.redirect_url
    bill.error = ""
    if bill.status == Bill.Status.CREATING:
        bill.record_created()
        bill.next_check_at = next_check_at(bill, now)
    else:
        bill.next_check_at = now  # abandoned or paid meanwhile: ask about it now


def _bill_record_refusal(bill_id: int, exc: errors.FaspayRejected) -> None:
    """Faspay answered Post Data with a refusal. "Already paid" means it existed and was paid."""
    bill = Bill.objects.get(pk=bill_id)
    with transaction.atomic():
        txn = _lock_bill_transactions(bill)
        bill = _lock_bill(bill_id)
        bill.error = str(exc)[:255]
        if exc.code == faspay_debit.RESPONSE_ALREADY_PAID:
            # The bill exists and was paid, but Faspay told us neither trx_id nor amount: only a
            # notification or staff (from Faspay's report) can place this money.
            _bill_paid_at_provider(txn, bill, amount=None, source=Bill.AmountSource.NONE, reference="",
                                   paid_at=None)
            _alert_amount_unconfirmed(txn, bill)
        elif exc.code == faspay_debit.RESPONSE_EXPIRED and bill.status in (Bill.Status.CREATING, Bill.Status.CANCELLED):
            bill.expire()
        elif bill.status == Bill.Status.CREATING:
            bill.record_refused()
        bill.next_check_at = None
        bill.save()


def _bill_record_unanswered(bill_id: int, error: str) -> None:
    with transaction.atomic():
        bill = _lock_bill(bill_id)
        bill.error = error[:255]
        # Keep re-posting while Faspay could still create the bill; after that only a notification
        # (or reconciliation and staff) can tell.
        bill.next_check_at = creation_retry_at(bill, timezone.now())
        bill.save(update_fields=["error", "next_check_at"])


def _withdraw_at_provider(client, bill: Bill) -> None:
    """Make sure a bill INTRASA no longer wants cannot be paid: cancel it at Faspay, or first learn
    its trx_id by re-posting it when its creation was never confirmed."""
    if bill.provider_trx_id:
        _cancel_at_provider(client, bill)
    elif bill.creation_unconfirmed:
        bill_confirm_creation(bill_id=bill.pk, client=client)


def _cancel_at_provider(client, bill: Bill) -> None:
    try:
        client.cancel(trx_id=bill.provider_trx_id, bill_no=bill.bill_no, reason="Buyer chose another method")
    except errors.FaspayError:
        # Not fatal: polling keeps asking about this bill, and if it is paid anyway the payment
        # is a double payment owed back to the buyer.
        logger.warning("could not cancel bill %s at Faspay", bill.bill_no, exc_info=True)


def bill_withdraw(*, bill_id: int, client=None) -> None:
    """Task body: withdraw a bill cancelled because another payment funded the transaction."""
    bill = Bill.objects.get(pk=bill_id)
    if bill.channel_code != BANK_TRANSFER and bill.status == Bill.Status.CANCELLED:
        _withdraw_at_provider(client or faspay_debit.default_client(), bill)


# --- notifications ------------------------------------------------------------------------------

@dataclass(frozen=True)
class NotificationReceipt:
    reply: dict  # the body Faspay expects
    bill_id: int  # the bill to verify now (by status inquiry: ``escrow.services.bill_check``)


def notification_receive(*, payload: dict, client=None) -> NotificationReceipt:
    """Record one payment notification; return Faspay's reply and the bill to verify.

    Raises ``faspay.debit.InvalidNotification`` (bad signature or shape) or ``UnknownBill``; both change
    nothing. Only Faspay bills are Faspay's to notify about: a bank transfer is verified from the
    bank statement alone.
    """
    client = client or faspay_debit.default_client()
    notification = client.parse_notification(payload)
    bill = Bill.objects.filter(bill_no=notification.bill_no).first()
    # Only a Faspay bill, and only under its own trx_id — or, when Faspay created a bill whose Post
    # Data we never saw answered, under the trx_id this signed notification gives it (adopted below).
    if (bill is None or bill.method == Method.BANK_TRANSFER or channel_get(bill.channel_code) is None
            or (bill.provider_trx_id and bill.provider_trx_id != notification.trx_id)
            or (not bill.provider_trx_id and not bill.creation_attempts)):  # never sent to Faspay
        raise UnknownBill(notification.bill_no)
    with transaction.atomic():
        txn = _lock_bill_transactions(bill)
        bill = _lock_bill(bill.pk)
        record, created = ProviderNotification.objects.get_or_create(
            provider="faspay", trx_id=notification.trx_id, status_code=notification.status_code,
            defaults={"bill_no": notification.bill_no, "payload": payload, "bill": bill},
        )
        if not created:
            ProviderNotification.objects.filter(pk=record.pk).update(deliveries=F("deliveries") + 1)
            return NotificationReceipt(client.notification_reply(notification), bill.pk)
        if not bill.provider_trx_id:
            # Faspay created a bill whose Post Data we never saw answered: the signed notification
            # names our bill_no, so its trx_id is the bill's.
            bill.provider_trx_id = notification.trx_id
            if bill.method != Method.QRIS:
                bill.pay_code = notification.trx_id
            audit_record(actor=None, action="bill.trx_id_learnt", target=bill,
                         reason="payment notification for a bill whose creation was never confirmed",
                         data={"trx_id": notification.trx_id, "status": bill.status})
            if bill.status == Bill.Status.CREATING:
                bill.record_created()
        if notification.status_code == faspay_debit.STATUS_PAID:
            _bill_paid_at_provider(txn, bill, amount=notification.paid_amount,
                                   source=Bill.AmountSource.NOTIFICATION,
                                   reference=notification.payment_reference, paid_at=notification.paid_at)
        elif notification.status_code == faspay_debit.STATUS_REVERSED:
            # Frozen at once; the inquiry below only cross-checks (``_bill_flag_reversed``).
            _bill_flag_reversed(bill, source="payment notification")
        if bill.status in INQUIRED:
            if bill.next_check_at is None:  # polling had stopped: these checks are a new run
                bill.inquiry_failing_since = bill.inquiry_reported_at = None
            bill.next_check_at = timezone.now()
        bill.save()
    return NotificationReceipt(client.notification_reply(notification), bill.pk)


def provider_notifications_minimise(*, bill_ids) -> int:
    """Keep of the stored notifications about these bills only the fields Faspay documents
    (``faspay.debit.NOTIFICATION_FIELDS``: references, amounts, status, channel, signature) and drop
    whatever else came with them (a customer's name, email or mobile number on some channels).

    The retention job calls it when every transaction a bill paid is past its period
    (``privacy.purge``); the amounts reconciliation reads stay. Returns how many payloads changed;
    a second call changes nothing."""
    changed = 0
    with transaction.atomic():
        for notification in locks.lock_all(ProviderNotification.objects.filter(bill__in=list(bill_ids))
                                           .only("pk", "payload")):
            payload = notification.payload
            if not isinstance(payload, dict):
                kept: dict = {}
            else:
                kept = {key: value for key, value in payload.items() if key in faspay_debit.NOTIFICATION_FIELDS}
            if kept != payload:
                ProviderNotification.objects.filter(pk=notification.pk).update(payload=kept)
                changed += 1
    return changed


# --- verification ---------------------------------------------------------------------------

def bill_inquire(*, bill_id: int, client=None) -> results.PaymentStatus | None:
    """Ask Faspay about the bill (a network call: never inside a database transaction). ``None``
    when there is nothing to apply: a bank transfer, a bill verified already that no notification asked
    about since, a booked reversal, a failed inquiry (polling asks again), or a creation Faspay never
    answered (re-posted here to learn its trx_id)."""
    bill = Bill.objects.only("pk", "method", "channel_code", "provider_trx_id", "status", "bill_no",
                             "created_at", "creation_attempts", "next_check_at", "checks", "inquiry_failing_since",
                             "inquiry_reported_at").get(pk=bill_id)
    if bill.channel_code == BANK_TRANSFER or bill.status not in INQUIRED:
        return None
    if bill.status == Bill.Status.VERIFIED and bill.next_check_at is None:
        # Verified and nobody asked: only a notification about it (Faspay's news of a reversal) sets a check.
        return None
    client = client or faspay_debit.default_client()
    if not bill.provider_trx_id:
        # Nothing to ask about without a trx_id: learn it by re-posting the same bill.
        bill_confirm_creation(bill_id=bill.pk, client=client)
        return None
    try:
        return client.inquiry(trx_id=bill.provider_trx_id, bill_no=bill.bill_no)
    except errors.FaspayError:
        logger.warning("status inquiry for %s failed", bill.bill_no, exc_info=True)
        bill_inquiry_failed(bill=bill)
        return None


INQUIRY_UNANSWERED_ACTION = "payment.inquiry_unanswered"


def bill_inquiry_failed(*, bill: Bill) -> None:
    """Faspay's status inquiry about ``bill`` (as ``bill_inquire`` read it) failed: it is asked again on
    the polling schedule. Once Faspay has not answered about it for ``INQUIRY_ALERT_AFTER``
    (``payments.polling``), the audit log records it and finance are told, once per run of failures:
    INTRASA cannot learn what happened to this payment, a person has to look at Faspay's report.

    Written only if the bill is as read: an answer (``bill_apply_status`` counts a check), a notification
    (it asks for a check now) or another worker's failure since is never overwritten."""
    now = timezone.now()
    failing_since = bill.inquiry_failing_since or now
    report = bill.inquiry_reported_at is None and now - failing_since >= INQUIRY_ALERT_AFTER
    with transaction.atomic():
        written = Bill.objects.filter(pk=bill.pk, checks=bill.checks, next_check_at=bill.next_check_at).update(
            next_check_at=next_check_at(bill, now), checks=F("checks") + 1, inquiry_failing_since=failing_since,
            **({"inquiry_reported_at": now} if report else {}))
        if written and report:
            audit_record(actor=None, action=INQUIRY_UNANSWERED_ACTION, target=bill,
                         reason=f"Faspay's status inquiry has failed since {failing_since.isoformat()}",
                         data={"trx_id": bill.provider_trx_id, "status": bill.status,
                               "failing_since": failing_since.isoformat()})
            enqueue("payments.tasks.alert_finance_inquiry_unanswered", bill.pk)


# A verified bill is asked about again only when Faspay notified something about it (``notification_receive``
# sets its ``next_check_at``): polling stops at verification, so that notification is the only news of a
# reversal. A booked reversal (``reversed``) has nothing left to learn.
INQUIRED = frozenset(Bill.Status) - {Bill.Status.REVERSED}
STILL_WAITING = (faspay_debit.STATUS_UNPROCESSED, faspay_debit.STATUS_IN_PROCESS, faspay_debit.STATUS_UNKNOWN)
GONE = (faspay_debit.STATUS_EXPIRED, faspay_debit.STATUS_CANCELLED, faspay_debit.STATUS_FAILED, faspay_debit.STATUS_NO_BILL)


def bill_apply_status(*, bill_id: int, status: results.PaymentStatus) -> list[OwedBack]:
    """Record what the status inquiry said (idempotent: a verified bill stays verified); return
    the money it owed back to the buyer."""
    owed: list[OwedBack] = []
    bill = Bill.objects.get(pk=bill_id)
    now = timezone.now()
    if status.status_code in STILL_WAITING and bill.expires_at + dt.timedelta(days=1) >= now:
        # The common answer while polling: nothing happened, only the next look is scheduled (none for a
        # verified bill: it was asked about once, after a notification).
        Bill.objects.filter(pk=bill_id).update(
            checks=F("checks") + 1, inquiry_failing_since=None, inquiry_reported_at=None,
            next_check_at=None if bill.status == Bill.Status.VERIFIED else next_check_at(bill, now))
        return owed
    with transaction.atomic():
        txn = _lock_bill_transactions(bill)
        bill = _lock_bill(bill_id)
        now = timezone.now()
        bill.checks += 1
        bill.inquiry_failing_since = bill.inquiry_reported_at = None  # Faspay answered
        bill.next_check_at = next_check_at(bill, now)
        code = status.status_code
        if bill.flag == Bill.Flag.REVERSED or bill.status == Bill.Status.REVERSED:
            # Faspay said it took this payment back: only staff settle it now (``bill_book_reversal``), whatever
            # Faspay answers later. Placing it would overwrite the flag and lift the freeze.
            if code != faspay_debit.STATUS_REVERSED:
                _reversal_contradicted(bill, code)
            bill.next_check_at = None
            bill.save()
            return owed
        if code == faspay_debit.STATUS_PAID and bill.status != Bill.Status.VERIFIED:
            _bill_paid_at_provider(txn, bill, amount=status.paid_amount, source=Bill.AmountSource.INQUIRY,
                                   reference=status.payment_reference, paid_at=status.paid_at)
            if bill.flag == Bill.Flag.REVERSED:  # an earlier reversal notice froze it: staff settle it
                bill.next_check_at = None
                _reversal_contradicted(bill, code)
            elif not _bill_place(txn, bill, owed) and now - (bill.paid_at or now) > AWAIT_AMOUNT_POLLING:
                bill.next_check_at = None  # only staff can settle it now
        elif code == faspay_debit.STATUS_REVERSED and bill.status in (Bill.Status.PAID, Bill.Status.VERIFIED):
            _bill_flag_reversed(bill, source="status inquiry")
            bill.next_check_at = None
        elif code in GONE:
            if bill.status == Bill.Status.PENDING and code != faspay_debit.STATUS_EXPIRED:
                bill.cancel()
            elif bill.status in (Bill.Status.PENDING, Bill.Status.CANCELLED) and code == faspay_debit.STATUS_EXPIRED:
                bill.expire()
            bill.next_check_at = None
        elif bill.expires_at + dt.timedelta(days=1) < now and bill.status in (Bill.Status.PENDING, Bill.Status.CANCELLED):
            bill.expire()  # the provider keeps saying "unprocessed" long after expiry
            bill.next_check_at = None
        if bill.status == Bill.Status.VERIFIED:
            bill.next_check_at = None  # asked once, after a notification; polling never asks a verified bill
        bill.save()
        return owed


REVERSAL_FLAGGED_ACTION = "payment.reversed"
REVERSAL_CONTRADICTED_ACTION = "payment.status_after_reversal"


def _bill_flag_reversed(bill, *, source: str) -> None:
    """Faspay says it took a paid bill's payment back (``payment_status_code`` 4): freeze its money
    (``payments.selectors.REVERSAL_UNBOOKED``: nothing of it is released, refunded or paid out) until
    staff book the reversal (``bill_book_reversal``). The caller saves the bill.

    Either of Faspay's words is enough, and the first one freezes: a status inquiry's answer, or its
    payment notification, whose signature covers the bill and the status code. Waiting for an inquiry
    to agree with a notification left the money releasable for as long as Faspay's inquiry failed.
    Freezing is the cautious side: if Faspay later answers otherwise, the flag stays and staff settle it
    from Faspay's report (``payment.status_after_reversal`` in the audit log)."""
    if bill.status not in (Bill.Status.PAID, Bill.Status.VERIFIED) or bill.flag == Bill.Flag.REVERSED:
        return
    replaced, bill.flag = bill.flag, Bill.Flag.REVERSED
    audit_record(actor=None, action=REVERSAL_FLAGGED_ACTION, target=bill,
                 reason=f"Faspay reports payment_status_code 4 (reversal) in its {source}",
                 data={"trx_id": bill.provider_trx_id, "source": source, "replaced_flag": replaced})


def _reversal_contradicted(bill, code: str) -> None:
    """Faspay answers ``code`` for a payment it reported reversed: the freeze stays (the cautious side), the
    audit log records it, and finance are told while the freeze is not booked: only a person can tell which
    of Faspay's words is true (then ``bill_book_reversal`` or ``bill_reversal_lift``)."""
    audit_record(actor=None, action=REVERSAL_CONTRADICTED_ACTION, target=bill,
                 reason="Faspay answers another status for a payment it reported reversed",
                 data={"trx_id": bill.provider_trx_id, "status": code})
    if bill.status != Bill.Status.REVERSED:
        enqueue("payments.tasks.alert_finance_reversal_contradicted", bill.pk, code)


# --- placing the money ----------------------------------------------------------------------

def _bill_paid_at_provider(txn, bill, *, amount: int | None, source: str, reference: str, paid_at) -> None:
    """The provider says ``bill`` was paid. Record it (and the amount, when the source states one);
    the transaction is ``paid`` while the money is being verified."""
    if bill.status in (Bill.Status.VERIFIED, Bill.Status.REVERSED):
        return  # placed already, or taken back by Faspay and booked: a late "paid" changes nothing
    now = timezone.now()
    if bill.status != Bill.Status.PAID:
        bill.mark_paid()
        bill.paid_at = paid_at or now
        if source != Bill.AmountSource.STAFF and bill.method != Method.BANK_TRANSFER and bill.notifications.filter(
                status_code=faspay_debit.STATUS_REVERSED).exists():
            # Faspay's reversal notice came first (a retried "paid" notification can arrive after it), when
            # the bill was not paid yet and nothing could be frozen: it freezes the payment now. Not when
            # finance record the charge from Faspay's report: that report is Faspay's later word.
            _bill_flag_reversed(bill, source="payment notification received before the payment's")
        members = _members(txn, bill)  # a shared bill: every transaction it pays is paid
        for member in members:
            if member.status == Status.CREATED and member.is_accepted:
                transaction_services.transaction_mark_paid(
                    escrow_transaction=member, payment_reference=reference or bill.provider_trx_id or bill.bill_no,
                    amount=amount if len(members) == 1 else None)  # a shared bill's amount is no one's own
                _refresh(member)
    if reference and not bill.payment_reference:
        bill.payment_reference = reference[:100]
    if amount is not None and not bill.amount_known:
        bill.paid_amount = amount
        bill.amount_source = source


def _bill_place(txn, bill, owed: list[OwedBack]) -> bool:
    """Settle a paid bill whose amount is known; ``False`` (and finance alerted) while it is not."""
    if not bill.amount_known:
        channel = CHANNELS.get(bill.channel_code)
        if channel is None or not channel.closed_amount:
            _alert_amount_unconfirmed(txn, bill)
            return False
        bill.paid_amount, bill.amount_source = bill.amount, Bill.AmountSource.CLOSED_CHANNEL
    _bill_settle(txn, bill, owed)
    return True


def _members(txn, bill) -> list[EscrowTransaction]:
    """The (locked) transactions ``bill`` pays, ``txn`` (its own) among them, in share order."""
    ids = _covered_ids(bill)
    if ids == [txn.pk]:
        return [txn]
    rows = EscrowTransaction.objects.select_related("seller", "buyer").in_bulk(ids)
    rows[txn.pk] = txn
    return [rows[pk] for pk in ids]


def _funded_by_another_bill(txn, bill) -> bool:
    funding = selectors.bill_funding(escrow_transaction=txn)
    return funding is not None and funding.pk != bill.pk


def _bill_settle(txn, bill, owed: list[OwedBack]) -> None:
    """The amount of ``bill`` is known: put the money in escrow or owe it back (module docstring). Never
    a payment Faspay reported reversed: its money is not INTRASA's to place (``bill_book_reversal``)."""
    if bill.flag == Bill.Flag.REVERSED:
        raise StaffPaymentError(_("Faspay reported this payment reversed: book the reversal instead."),
                                code="payment_reversed")
    paid = bill.paid_amount
    bill.settle()
    now = timezone.now()
    bill.verified_at = now
    bill.next_check_at = None
    channel = CHANNELS.get(bill.channel_code)
    bill.settlement_expected_at = working_calendar().add_working_days(bill.paid_at or now,
                                                                      channel.settlement_days if channel else 0)
    shares = selectors.bill_shares(bill=bill)
    if shares:
        _shared_bill_settle(txn, bill, shares, owed)
        return
    funded_elsewhere = _funded_by_another_bill(txn, bill)
    if funded_elsewhere or txn.status not in (Status.CREATED, Status.PAID):
        # The escrow was funded already (a double payment) or the transaction closed unpaid.
        bill.flag = Bill.Flag.DOUBLE if funded_elsewhere or txn.verified_at else Bill.Flag.LATE
        _owe_back(txn, bill, paid, bill.flag, owed)
        _alert(txn, bill, f"payment_{bill.flag}")
        return
    if paid < bill.amount:
        bill.flag = Bill.Flag.SHORT
        _owe_back(txn, bill, paid, "short", owed)
        _alert(txn, bill, "payment_short")
        another_paid = selectors.bills_of(escrow_transaction=txn).filter(status=Bill.Status.PAID) \
            .exclude(pk=bill.pk).exists()
        if txn.status == Status.PAID and not another_paid:  # the buyer may pay the full amount again
            transaction_services.transaction_reopen_for_payment(
                escrow_transaction=txn, reason=f"{bill.bill_no}: paid {paid} of {bill.amount}",
                data={"bill": bill.bill_no, "paid": paid, "billed": bill.amount})
            _refresh(txn)
        return
    if txn.status == Status.CREATED:  # a short payment had reopened it, or the notification was lost
        transaction_services.transaction_mark_paid(escrow_transaction=txn, payment_reference=bill.payment_reference,
                                                   amount=paid)
    funding = [debit(_clearing_for(bill), bill.amount)]
    if bill.unique_code:
        funding.append(debit(AccountCategory.PAYMENT_DISCOUNT, bill.unique_code))
    transaction_services.transaction_verify(
        escrow_transaction=txn, payment_reference=bill.payment_reference or bill.bill_no,
        amount_received=bill.amount + bill.unique_code, funding=funding)
    _refresh(txn)
    if paid > bill.amount:
        bill.flag = Bill.Flag.EXCESS
        _owe_back(txn, bill, paid - bill.amount, "excess", owed)
        _alert(txn, bill, "payment_excess")
    _cancel_other_open_bills(txn, bill)


def _shared_bill_settle(lead, bill, shares: list[BillShare], owed: list[OwedBack]) -> None:
    """Place a shared bill's money, transaction by transaction, by the rules of one bill:

    * paid less than the bill: all of it is owed back (booked with the first transaction), and
      every transaction it paid waits for a full payment again — the buyer pays the plan once,
      never a part of it;
    * otherwise each transaction's share funds its own escrow hold (``transaction_verify``, one
      journal entry per transaction, each with its own idempotency key), unless that transaction
      was funded by another bill meanwhile (its share is a double payment) or closed unpaid (a
      late payment): that share is owed back to the buyer on its own transaction;
    * paid more than the bill: the excess is owed back with the first transaction.
    """
    paid = bill.paid_amount
    members = {member.pk: member for member in _members(lead, bill)}
    clearing = _clearing_for(bill)
    if paid < bill.amount:
        bill.flag = Bill.Flag.SHORT
        _owe_back(lead, bill, paid, "short", owed)
        for share in shares:
            share.collected = paid if share.escrow_transaction_id == lead.pk else 0
            share.save(update_fields=["collected"])
        _alert(lead, bill, "payment_short")
        for member in members.values():
            another_paid = selectors.bills_of(escrow_transaction=member).filter(status=Bill.Status.PAID) \
                .exclude(pk=bill.pk).exists()
            if member.status == Status.PAID and not another_paid:
                transaction_services.transaction_reopen_for_payment(
                    escrow_transaction=member, reason=f"{bill.bill_no}: paid {paid} of {bill.amount}")
                _refresh(member)
        return
    flags = []
    for share in shares:
        member = members[share.escrow_transaction_id]
        funded_elsewhere = _funded_by_another_bill(member, bill)
        if funded_elsewhere or member.status not in (Status.CREATED, Status.PAID):
            flag = Bill.Flag.DOUBLE if funded_elsewhere or member.verified_at else Bill.Flag.LATE
            _owe_back(member, bill, share.amount, flag, owed)
            flags.append(flag)
            share.collected = share.amount
            share.save(update_fields=["collected"])
            continue
        if member.status == Status.CREATED:  # a short payment had reopened it, or the notification was lost
            transaction_services.transaction_mark_paid(escrow_transaction=member, amount=None,
                                                       payment_reference=bill.payment_reference or bill.bill_no)
        discount = bill.unique_code if member.pk == lead.pk else 0
        funding = [debit(clearing, share.amount)] + ([debit(AccountCategory.PAYMENT_DISCOUNT, discount)]
                                                      if discount else [])
        transaction_services.transaction_verify(
            escrow_transaction=member, payment_reference=bill.payment_reference or bill.bill_no,
            amount_received=share.amount + discount, funding=funding)
        _refresh(member)
        share.collected, share.held = share.amount, True
        share.save(update_fields=["collected", "held"])
        _cancel_other_open_bills(member, bill)
    if paid > bill.amount:
        _owe_back(lead, bill, paid - bill.amount, "excess", owed)
        BillShare.objects.filter(pk=shares[0].pk).update(collected=F("collected") + paid - bill.amount)
        flags.append(Bill.Flag.EXCESS)
    if flags:
        # One flag per bill (the staff queue): a double payment outranks a late one, both an excess.
        bill.flag = next(flag for flag in (Bill.Flag.DOUBLE, Bill.Flag.LATE, Bill.Flag.EXCESS) if flag in flags)
        _alert(lead, bill, f"payment_{bill.flag}")


def _cancel_other_open_bills(txn, funding_bill) -> None:
    """The escrow is funded: no other bill of the transaction should be paid any more."""
    for other in locks.lock_all(selectors.bills_of(escrow_transaction=txn).filter(status__in=OPEN)
                                .exclude(pk=funding_bill.pk)):
        other.cancel()
        other.cancelled_at = timezone.now()
        other.next_check_at = timezone.now() if other.channel_code != BANK_TRANSFER else None
        other.save()
        if other.channel_code != BANK_TRANSFER:
            enqueue("payments.tasks.withdraw_bill", other.pk)


def _owe_back(txn, bill, amount: int, why: str, owed: list[OwedBack]) -> None:
    # A shared bill owes back per transaction: the key names the transaction when it is not the bill's own.
    scope = "" if txn.pk == bill.escrow_transaction_id else f"txn:{txn.pk}:"
    entry_post(
        idempotency_key=f"bill:{bill.pk}:{scope}owed-back:{why}", kind=EntryKind.PAYMENT_UNMATCHED,
        memo=f"{txn.reference} {bill.bill_no} {why} payment owed back to the buyer", escrow_transaction=txn,
        lines=[debit(_clearing_for(bill), amount), credit(AccountCategory.BUYER_REFUND_PAYABLE, amount)],
    )
    owed.append(OwedBack(escrow_transaction_id=txn.pk, bill_id=bill.pk, amount=amount, why=why))


def _clearing_for(bill: Bill) -> str:
    return AccountCategory.ESCROW_BANK if bill.method == Method.BANK_TRANSFER else AccountCategory.PROVIDER_CLEARING


def _alert(txn, bill, kind: str) -> None:
    """Tell the buyer and leave an audit row staff can filter on (the bill's flag is the queue)."""
    audit_record(actor=None, action=f"payment.{bill.flag}", target=bill,
                 data={"reference": txn.reference, "paid": bill.paid_amount, "bill": bill.amount})
    if txn.buyer is not None:
        notify(event_key=f"bill:{bill.pk}:{kind}", kind=kind, recipient=txn.buyer,
               context={"reference": txn.reference, "title": txn.title, "seller": txn.seller.full_name,
                        "amount": format_rupiah(bill.paid_amount or 0), "due": format_rupiah(bill.amount)},
               link=txn.get_absolute_url())


UNCONFIRMED_ACTION = "payment.amount_unconfirmed"


def _alert_amount_unconfirmed(txn, bill) -> None:
    """Money arrived for ``bill`` but no source stated how much: finance must read it from
    Faspay's report (once per bill; the queue is the bills in ``paid``)."""
    if AuditEntry.objects.filter(action=UNCONFIRMED_ACTION, object_type=Bill._meta.label,
                                 object_id=str(bill.pk)).exists():
        return
    audit_record(actor=None, action=UNCONFIRMED_ACTION, target=bill,
                 reason="Faspay says the bill was paid; no source stated the amount",
                 data={"reference": txn.reference, "bill": bill.amount, "trx_id": bill.provider_trx_id})
    enqueue("payments.tasks.alert_finance_unconfirmed_payment", bill.pk)


# --- staff ------------------------------------------------------------------------------------

class StaffPaymentError(PaymentError):
    """A staff action on a bill that was refused; nothing changed."""


def bill_record_provider_amount(*, bill_id: int, amount: int, actor, reason: str,
                                trx_id: str = "") -> list[OwedBack]:
    """Finance records what Faspay's transaction report says a paid bill collected (the only way
    to place a payment whose notification was lost), with the reason and the report it came from.
    Returns the money it owed back to the buyer."""
    reason = (reason or "").strip()
    if not (actor.is_staff and actor.has_perm("payments.record_provider_payment")):
        raise StaffPaymentError(_("You are not allowed to record payment amounts."), code="forbidden")
    if not reason:
        raise StaffPaymentError(_("Please give a reason and the report the amount comes from."),
                                code="reason_required")
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= 10 * settings.INTRASA_MAX_TRANSACTION_AMOUNT:
        raise StaffPaymentError(_("Enter the amount Faspay collected, in whole Rupiah."), code="invalid_amount")
    bill = Bill.objects.get(pk=bill_id)
    with transaction.atomic():
        txn = _lock_bill_transactions(bill)
        bill = _lock_bill(bill_id)
        if bill.status != Bill.Status.PAID or bill.amount_known:
            raise StaffPaymentError(_("Only a paid bill whose amount is not known yet can be recorded."),
                                    code="not_awaiting_amount")
        trx_id = (trx_id or "").strip()
        if not bill.provider_trx_id:
            if not trx_id.isascii() or not trx_id.isdigit() or len(trx_id) > 40:
                raise StaffPaymentError(_("Enter Faspay's trx_id of this bill (digits only)."), code="trx_id_required")
            bill.provider_trx_id = trx_id
        elif trx_id and trx_id != bill.provider_trx_id:
            raise StaffPaymentError(_("This bill's trx_id is %(trx_id)s.") % {"trx_id": bill.provider_trx_id},
                                    code="trx_id_mismatch")
        bill.paid_amount, bill.amount_source = amount, Bill.AmountSource.STAFF
        audit_record(actor=actor, action="payment.amount_recorded", target=bill, reason=reason,
                     data={"amount": amount, "bill": bill.amount, "trx_id": bill.provider_trx_id,
                           "reference": txn.reference})
        owed: list[OwedBack] = []
        _bill_settle(txn, bill, owed)
        bill.save()
        return owed


# --- a payment the provider took back ---------------------------------------------------------

@dataclass(frozen=True)
class ReversalBooked:
    """What booking a reversed payment did for one transaction the bill paid: ``taken_from_hold`` left the
    escrow hold (the transaction ended refunded, by the provider); ``taken_from_refunds`` was owed back to
    the buyer and not sent (its refund requests close); ``to_recover`` had left INTRASA before (released to
    the seller, or refunded by INTRASA too) and is now owed to INTRASA; ``was_disputed``: the transaction
    had an open dispute, which the flow closes; ``reopened``: a payment never verified, the transaction
    waits for a payment again."""

    escrow_transaction_id: int
    reference: str
    taken_from_hold: int = 0
    taken_from_refunds: int = 0
    to_recover: int = 0
    was_disputed: bool = False
    reopened: bool = False


def _reversal_staff_action(*, bill_id: int, actor, reason: str, reason_missing: str) -> tuple[Bill, str]:
    """The checks every staff action on a reversal makes first: the permission, a reason, the bill."""
    reason = (reason or "").strip()
    if not (actor.is_staff and actor.has_perm("payments.book_provider_reversal")):
        raise StaffPaymentError(_("You are not allowed to book reversed payments."), code="forbidden")
    if not reason:
        raise StaffPaymentError(reason_missing, code="reason_required")
    bill = Bill.objects.filter(pk=bill_id).first()
    if bill is None:
        raise StaffPaymentError(_("This bill does not exist."), code="unknown_bill")
    return bill, reason


def bill_reversal_lift(*, bill_id: int, actor, reason: str) -> None:
    """Finance lift the freeze of a payment Faspay reported reversed and did not take back after all
    (Faspay's report and its status inquiry say paid): the money is INTRASA's to release or refund again,
    and a payout part held for it is sent at its next look (``disbursements.services``). The bill gets
    back the flag the freeze replaced (a short or excess payment); a freeze that did not record it is
    refused. A bill paid but never placed (the freeze stopped it) is asked about at the next poll, and
    placed then. Only a freeze not booked yet can be lifted; a booked reversal moved money, and is
    corrected with the recovery tools."""
    bill, reason = _reversal_staff_action(
        bill_id=bill_id, actor=actor, reason=reason,
        reason_missing=_("Please give a reason and the Faspay report that shows the payment was not reversed."))
    with transaction.atomic():
        _lock_bill_transactions(bill)
        bill = _lock_bill(bill_id)
        if bill.flag != Bill.Flag.REVERSED or bill.status not in (Bill.Status.PAID, Bill.Status.VERIFIED):
            raise StaffPaymentError(_("Only a payment Faspay reported reversed, and whose reversal is not booked, "
                                      "can be released from its freeze."), code="not_reversed")
        flagged = AuditEntry.objects.filter(action=REVERSAL_FLAGGED_ACTION, object_type=Bill._meta.label,
                                            object_id=str(bill.pk)).order_by("-id").first()
        replaced = (flagged.data or {}).get("replaced_flag") if flagged is not None else None
        if replaced not in Bill.Flag.values or replaced == Bill.Flag.REVERSED:
            # A freeze recorded before its replaced flag was kept: the bill may have been a double, late or
            # short payment, which decides where its money is booked. Guessing "none" could misplace it.
            raise StaffPaymentError(_("This freeze does not record the bill's flag before it; it cannot be lifted "
                                      "here. Book the reversal, or ask engineering to correct it."),
                                    code="flag_unknown")
        bill.flag = replaced
        fields = ["flag"]
        if bill.status == Bill.Status.PAID:
            # Paid but never placed (the freeze stopped it): the next poll asks Faspay and places it.
            bill.next_check_at, fields = timezone.now(), [*fields, "next_check_at"]
        bill.save(update_fields=fields)
        audit_record(actor=actor, action="payment.reversal_lifted", target=bill, reason=reason,
                     data={"trx_id": bill.provider_trx_id, "restored_flag": bill.flag})


def bill_book_reversal(*, bill_id: int, actor, reason: str,
                       returned_to_buyer: dict[int, int] | None = None) -> list[ReversalBooked]:
    """Staff book a payment Faspay reported reversed (``bill_apply_status`` only flags the bill, and every
    release and refund of it is refused meanwhile): from here on the ledger no longer counts the money as
    collected, as Faspay no longer does. Per transaction the bill paid:

    * still held in escrow: the hold leaves through the clearing account and the transaction ends
      refunded, by the provider (``transaction_services.transaction_take_back_payment``);
    * already released to the seller, or refunded by INTRASA too (and what was owed back and has reached
      the buyer): it is owed to INTRASA (``REVERSAL_RECEIVABLE``) and staff recover it;
    * owed back to the buyer and not sent yet (``returned_to_buyer``, per transaction: the open refund
      requests carrying it, which the caller closes): off the buyer refund payable, as the buyer has it;
    * paid but never verified: nothing was booked; the transaction waits for a payment again.

    Returns what it did per transaction; the caller (``escrow.services.escrow_book_provider_reversal``)
    closes those refund requests and the open disputes."""
    from ledger.selectors import transaction_balances

    bill, reason = _reversal_staff_action(
        bill_id=bill_id, actor=actor, reason=reason,
        reason_missing=_("Please give a reason and the Faspay report that shows the reversal."))
    with transaction.atomic():
        txn = _lock_bill_transactions(bill)
        bill = _lock_bill(bill_id)
        if bill.flag != Bill.Flag.REVERSED or bill.status not in (Bill.Status.PAID, Bill.Status.VERIFIED):
            raise StaffPaymentError(_("Only a paid bill that Faspay reported reversed, and that is not booked yet, "
                                      "can be booked as reversed."), code="not_reversed")
        members = _members(txn, bill)
        booked: list[ReversalBooked] = []
        returned_to_buyer = returned_to_buyer or {}
        if bill.status == Bill.Status.PAID:
            if any(returned_to_buyer.values()):
                raise StaffPaymentError(_("A payment that was never verified owes nothing back to the buyer."),
                                        code="ledger_mismatch")
            # Never verified: nothing of it is in the ledger. A transaction it alone moved to "paid" waits for
            # a payment again (as after a short payment), unless another paid bill is being verified for it.
            for member in members:
                another_paid = selectors.bills_of(escrow_transaction=member).filter(status=Bill.Status.PAID) \
                    .exclude(pk=bill.pk).exists()
                reopened = member.status == Status.PAID and not another_paid
                if reopened:
                    transaction_services.transaction_reopen_for_payment(
                        escrow_transaction=member, reason=f"{bill.bill_no}: payment reversed by the provider",
                        data={"bill": bill.bill_no, "reversed": True}, action="reopen_after_reversal")
                booked.append(ReversalBooked(member.pk, member.reference, reopened=reopened))
        else:
            money = selectors.bill_money_by_transaction(bill=bill, members=members)
            brought_in = sum(funded + owed for funded, _discount, owed in money.values())
            if brought_in != bill.paid_amount:
                raise StaffPaymentError(
                    _("The ledger booked %(booked)s for this bill, but it was paid %(paid)s: run the ledger check "
                      "before booking the reversal.") % {"booked": format_rupiah(brought_in),
                                                         "paid": format_rupiah(bill.paid_amount or 0)},
                    code="ledger_mismatch")
            clearing = _clearing_for(bill)
            for member in members:
                funded, discount, owed = money[member.pk]
                was_disputed = member.status == Status.DISPUTED
                taken = 0
                if funded and member.status in HELD_STATES:
                    transaction_services.transaction_take_back_payment(
                        escrow_transaction=member, actor=actor, reason=reason, clearing_category=clearing,
                        collected=funded, discount=discount, bill_no=bill.bill_no)
                    _refresh(member)
                    taken = funded
                balances = transaction_balances(escrow_transaction=member)  # after the hold was taken back
                # Owed back to the buyer and not sent: the buyer has it from Faspay (its refunds close).
                returned = returned_to_buyer.get(member.pk, 0)
                still_owed = balances.get(AccountCategory.BUYER_REFUND_PAYABLE, 0)
                if not 0 <= returned <= min(still_owed, funded + owed - taken):
                    raise StaffPaymentError(
                        _("The refunds of %(reference)s do not match what this bill brought in: run the ledger "
                          "check before booking the reversal.") % {"reference": member.reference},
                        code="ledger_mismatch")
                if returned:
                    entry_post(
                        idempotency_key=f"bill:{bill.pk}:txn:{member.pk}:taken-back-owed",
                        kind=EntryKind.PAYMENT_TAKEN_BACK, escrow_transaction=member, actor=actor,
                        memo=f"{member.reference} {bill.bill_no} owed back, taken back by the provider instead",
                        lines=[debit(AccountCategory.BUYER_REFUND_PAYABLE, returned), credit(clearing, returned)])
                to_recover = funded + owed - taken - returned
                if funded and not taken and member.status in (Status.CONFIRMED, Status.DISBURSED):
                    unsent = balances.get(AccountCategory.SELLER_PAYABLE, 0)
                    if unsent:
                        # Its payout is held while the reversal is unbooked (``disbursements.services``); sending it
                        # after booking would pay the seller money Faspay took back. A part already at SendMe is
                        # not held: its result is awaited, then booking counts it as paid out (to recover).
                        raise StaffPaymentError(
                            _("%(amount)s of this payment is not paid out to the seller of %(reference)s yet: a "
                              "transfer already at SendMe is awaited (book the reversal once its result is known); "
                              "one not sent is held while the payment is reversed, and withdrawing it is not "
                              "possible yet: ask engineering.")
                            % {"amount": format_rupiah(unsent), "reference": member.reference}, code="payout_unsent")
                if to_recover:
                    # It left the escrow before Faspay took it back: paid to the seller, or to the buyer too.
                    entry_post(
                        idempotency_key=f"bill:{bill.pk}:txn:{member.pk}:taken-back", kind=EntryKind.PAYMENT_TAKEN_BACK,
                        memo=f"{member.reference} {bill.bill_no} taken back by the provider after it left the "
                             f"escrow: to recover", escrow_transaction=member, actor=actor,
                        lines=[debit(AccountCategory.REVERSAL_RECEIVABLE, to_recover), credit(clearing, to_recover)])
                booked.append(ReversalBooked(member.pk, member.reference, taken_from_hold=taken,
                                             taken_from_refunds=returned, to_recover=to_recover,
                                             was_disputed=was_disputed and bool(taken)))
        bill.book_reversal()
        bill.reversal_booked_at = timezone.now()
        bill.next_check_at = None
        bill.save()
        audit_record(actor=actor, action="payment.reversal_booked", target=bill, reason=reason,
                     data={"bill": bill.bill_no, "paid": bill.paid_amount, "transactions": [
                         {"reference": item.reference, "taken_from_hold": item.taken_from_hold,
                          "taken_from_refunds": item.taken_from_refunds, "to_recover": item.to_recover,
                          "reopened": item.reopened} for item in booked]})
        return booked


class ReversalSettlement(str):
    """How finance settle what a reversal left owed to INTRASA (``bill_reversal_settle``)."""

    RECOVERED = "recovered"  # the seller (or the buyer paid twice) paid it back, into INTRASA's operating account
    WRITTEN_OFF = "written_off"  # it cannot be recovered: INTRASA bears it


def bill_reversal_settle(*, bill_id: int, amount: int, how: str, actor, reason: str) -> int:
    """Finance record what they recovered of a booked reversal's receivable (money the seller had been paid,
    or the buyer had been refunded, before Faspay took the payment back), or write off what cannot be; the
    reason says from whom and how. Returns what is still to recover."""
    bill, reason = _reversal_staff_action(
        bill_id=bill_id, actor=actor, reason=reason,
        reason_missing=_("Please give a reason: from whom it was recovered, or why it cannot be."))
    if how not in (ReversalSettlement.RECOVERED, ReversalSettlement.WRITTEN_OFF):
        raise StaffPaymentError(_("Choose recovered or written off."), code="invalid_choice")
    with transaction.atomic():
        _lock_bill_transactions(bill)
        bill = _lock_bill(bill_id)
        outstanding = selectors.reversal_to_recover(bill=bill)
        if bill.status != Bill.Status.REVERSED or outstanding <= 0:
            raise StaffPaymentError(_("Nothing of this bill's reversal is left to recover."), code="nothing_to_recover")
        if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= outstanding:
            raise StaffPaymentError(_("Enter an amount from %(min)s up to %(max)s.") % {
                "min": format_rupiah(1), "max": format_rupiah(outstanding)}, code="invalid_amount")
        settled = JournalEntry.objects.filter(idempotency_key__startswith=f"bill:{bill.pk}:settled:").count()
        source = (AccountCategory.OPERATING_BANK if how == ReversalSettlement.RECOVERED
                  else AccountCategory.REVERSAL_LOSS)
        entry_post(idempotency_key=f"bill:{bill.pk}:settled:{settled + 1}", kind=EntryKind.REVERSAL_SETTLED,
                   memo=f"{bill.bill_no} reversal {how}", escrow_transaction=bill.escrow_transaction, actor=actor,
                   lines=[debit(source, amount), credit(AccountCategory.REVERSAL_RECEIVABLE, amount)])
        audit_record(actor=actor, action=f"payment.reversal_{how}", target=bill, reason=reason,
                     data={"amount": amount, "left": outstanding - amount})
        return outstanding - amount


# --- bank transfer: the bank statement is the provider ------------------------------------------

class StatementLine(str):
    """What importing one statement line did."""

    DUPLICATE = "duplicate"  # imported before (same bank reference, date and amount)
    MATCHED = "matched"  # verified the payment of an open bank-transfer bill
    UNMATCHED = "unmatched"  # no open bill of that amount: money on the escrow account to look into


@dataclass(frozen=True)
class StatementLineOutcome:
    result: str  # a StatementLine value
    line: BankStatementLine
    owed_back: list


def statement_line_import(*, row: dict, staff) -> StatementLineOutcome:
    """Import one credit line of the escrow account; a line that matches an open bank-transfer
    bill's unique amount verifies that payment. Lines are stored once (bank reference + date +
    amount), so importing the same file twice changes nothing. Returns the outcome, with the money
    it owed back to the buyer (the caller — ``escrow.services.statement_import`` — opens the refund
    requests in the same database transaction)."""
    owed: list[OwedBack] = []
    with transaction.atomic():
        line, created = BankStatementLine.objects.get_or_create(
            bank_reference=row["bank_reference"], booked_on=row["booked_on"], amount=row["amount"],
            defaults={"description": row["description"][:255], "imported_by": staff},
        )
        if not created:
            return StatementLineOutcome(StatementLine.DUPLICATE, line, owed)
        bill = (Bill.objects.filter(method=Method.BANK_TRANSFER, status=Bill.Status.PENDING, amount=line.amount)
                .order_by("created_at").first())
        if bill is None:
            _book_suspense(line)
            return StatementLineOutcome(StatementLine.UNMATCHED, line, owed)
        txn = _lock_bill_transactions(bill)
        bill = _lock_bill(bill.pk)
        if bill.status != Bill.Status.PENDING:  # another import settled it meanwhile
            _book_suspense(line)
            return StatementLineOutcome(StatementLine.UNMATCHED, line, owed)
        paid_at = timezone.make_aware(dt.datetime.combine(line.booked_on, dt.time(12, 0)))
        _bill_paid_at_provider(txn, bill, amount=line.amount, source=Bill.AmountSource.STATEMENT,
                               reference=line.bank_reference, paid_at=paid_at)
        _bill_settle(txn, bill, owed)
        bill.save()
        line.matched_bill = bill
        line.save(update_fields=["matched_bill"])
        audit_record(actor=staff, action="bank_statement.match", target=bill,
                     data={"line": line.pk, "amount": line.amount})
        return StatementLineOutcome(StatementLine.MATCHED, line, owed)


def _book_suspense(line: BankStatementLine) -> None:
    """Money on the escrow account that no bill claimed is INTRASA's debt to someone not yet known:
    booked at once (escrow bank → suspense), so it is in the books and can be returned, instead of
    a statement line nobody owns. Idempotent (lines imported before suspense existed are booked when
    staff match them)."""
    if line.suspense_booked_at is not None:
        return
    entry_post(idempotency_key=f"statement-line:{line.pk}:suspense", kind=EntryKind.SUSPENSE_RECEIVED,
               memo=f"Unmatched credit {line.booked_on} {line.bank_reference}"[:255],
               lines=[debit(AccountCategory.ESCROW_BANK, line.amount),
                      credit(AccountCategory.UNMATCHED_SUSPENSE, line.amount)])
    line.suspense_booked_at = timezone.now()
    line.save(update_fields=["suspense_booked_at"])


def statement_line_assign(*, line_id: int, escrow_transaction_id: int, actor, reason: str) -> BankStatementLine:
    """Finance matches an unmatched credit to the transaction of the buyer who sent it (a second
    transfer of the same amount, a transfer of a wrong amount), with the reason — how they know it is
    that payer's (the buyer's statement, the sender name on the line). The money moves from suspense
    to that transaction's buyer refund payable; the caller (``escrow.services``) opens the refund
    request in the same database transaction."""
    reason = (reason or "").strip()
    if not (actor.is_staff and actor.has_perm("payments.record_provider_payment")):
        raise StaffPaymentError(_("You are not allowed to match bank statement lines."), code="forbidden")
    if not reason:
        raise StaffPaymentError(_("Say how you know who sent this money."), code="reason_required")
    with transaction.atomic():
        txn = _lock_txn(escrow_transaction_id)
        line = locks.lock(BankStatementLine, line_id)
        if line.matched_bill_id is not None or line.assigned_transaction_id is not None:
            raise StaffPaymentError(_("This statement line is already matched."), code="already_matched")
        if txn.buyer_id is None:
            raise StaffPaymentError(_("This transaction has no buyer to return the money to."), code="no_buyer")
        _book_suspense(line)
        entry_post(idempotency_key=f"statement-line:{line.pk}:assigned", kind=EntryKind.PAYMENT_UNMATCHED,
                   memo=f"{txn.reference} unmatched credit {line.bank_reference} owed back to the buyer"[:255],
                   escrow_transaction=txn,
                   lines=[debit(AccountCategory.UNMATCHED_SUSPENSE, line.amount),
                          credit(AccountCategory.BUYER_REFUND_PAYABLE, line.amount)])
        line.assigned_transaction, line.assigned_by = txn, actor
        line.assigned_at, line.assigned_reason = timezone.now(), reason
        line.save(update_fields=["assigned_transaction", "assigned_by", "assigned_at", "assigned_reason"])
        audit_record(actor=actor, action="bank_statement.assign", target=line, reason=reason,
                     data={"reference": txn.reference, "amount": line.amount})
        return line


def bill_record_charge_from_report(*, bill_id: int, amount: int, trx_id: str, actor, reason: str) -> list[OwedBack]:
    """Finance book a charge Faspay's transaction report shows on one of the transaction's bills that
    INTRASA never saw paid (it expired, was cancelled or withdrawn, or was never answered): the buyer
    proved the debit ("failed but charged", ``refunds.policy``). The bill is recorded paid with the
    report's amount and trx_id and placed like any payment. Only a charge that can no longer fund the
    escrow (the transaction is paid already, or closed) is booked this way: it is owed back to the
    buyer, and the owed-back list is returned to the refund flow that asked."""
    reason, trx_id = (reason or "").strip(), (trx_id or "").strip()
    if not (actor.is_staff and actor.has_perm("payments.record_provider_payment")):
        raise StaffPaymentError(_("You are not allowed to record payment amounts."), code="forbidden")
    if not reason:
        raise StaffPaymentError(_("Please give a reason and the report the amount comes from."), code="reason_required")
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= 10 * settings.INTRASA_MAX_TRANSACTION_AMOUNT:
        raise StaffPaymentError(_("Enter the amount Faspay collected, in whole Rupiah."), code="invalid_amount")
    if not trx_id.isascii() or not trx_id.isdigit() or len(trx_id) > 40:
        raise StaffPaymentError(_("Enter Faspay's trx_id of this bill (digits only)."), code="trx_id_required")
    bill = Bill.objects.get(pk=bill_id)
    with transaction.atomic():
        txn = _lock_bill_transactions(bill)
        bill = _lock_bill(bill_id)
        if bill.status in (Bill.Status.PAID, Bill.Status.VERIFIED, Bill.Status.REVERSED):
            raise StaffPaymentError(_("INTRASA already recorded this bill as paid."), code="already_paid")
        if txn.status in (Status.CREATED, Status.PAID) and not _funded_by_another_bill(txn, bill):
            raise StaffPaymentError(_("This payment would fund the transaction itself, so nothing is owed back: "
                                      "record it as the transaction's payment instead."), code="would_fund")
        if bill.provider_trx_id and bill.provider_trx_id != trx_id:
            raise StaffPaymentError(_("This bill's trx_id is %(trx_id)s.") % {"trx_id": bill.provider_trx_id},
                                    code="trx_id_mismatch")
        bill.provider_trx_id = trx_id
        _bill_paid_at_provider(txn, bill, amount=amount, source=Bill.AmountSource.STAFF, reference=trx_id,
                               paid_at=timezone.now())
        owed: list[OwedBack] = []
        _bill_settle(txn, bill, owed)
        bill.save()
        audit_record(actor=actor, action="payment.charge_recorded", target=bill, reason=reason,
                     data={"amount": amount, "trx_id": trx_id, "reference": txn.reference})
        return owed
