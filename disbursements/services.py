"""Paying people through SendMe (FAQ step 6). Every change to a payout or a part goes through here.

The life of a part (``Disbursement``), each step its own short database transaction:

1. ``payout_plan`` (inside the caller's transaction, e.g. the escrow release): the payout is split
   by the per-transfer limits; each part gets its partnerReferenceNo now, once.
2. ``_reserve``: lock the part, check the night window, reserve its amount on today's quota row
   (conditional UPDATE) and mark it ``sending`` with a lease — all in one commit. A part that does
   not fit waits for the next WIB day, visibly.
3. The SendMe call, with no lock held.
4. ``_record``: apply the answer (``outcomes.classify``): pending/succeeded/failed, resend later
   (same reference), or unknown → status inquiry.
5. Success posts seller payable (or buyer refund payable) → SendMe deposit in the ledger; when
   every part of a seller payout succeeded the transaction becomes ``disbursed``.

A worker killed between 2 and 4 leaves a ``sending`` part whose lease expires: it is resolved by a
status inquiry under the same reference, exactly like a timeout.
"""
import datetime as dt
import logging
import secrets

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import PayoutDestination
from audit.services import audit_record
from intrasa import snap
from intrasa.money import RUPIAH_CEILING, check_rupiah_range, format_rupiah
from intrasa.wib import format_wib, wib_date
from ledger.models import AccountCategory, EntryKind
from ledger.services import credit, debit, entry_post
from notifications.services import notify
from transactions import services as transaction_services
from transactions.models import EscrowTransaction, Status as TxnStatus
from workdays.calendar import working_calendar

from . import outcomes, quota, rules
from .models import DailyLimitChange, Disbursement, Payout
from .sendme import SendMeUnreachable, SnapResult, default_client

logger = logging.getLogger(__name__)


def _lease() -> dt.timedelta:
    """How long a ``sending`` part belongs to the worker sending it; longer than any call's
    timeout. When it runs out the worker is presumed dead and the part goes to a status inquiry."""
    return dt.timedelta(seconds=settings.SENDME_SEND_LEASE_SECONDS)

RESEND_BACKOFF = [dt.timedelta(seconds=s) for s in (5, 30, 120, 600, 1800)]
PENDING_POLL = [dt.timedelta(seconds=s) for s in (30, 60, 300, 900, 3600)]
NOT_FOUND_GRACE = dt.timedelta(minutes=2)  # a transfer SendMe has not recorded after this never arrived

# A part in one of these states never changes again (a reversal only follows a success).
FINAL = (Disbursement.Status.FAILED, Disbursement.Status.CANCELLED, Disbursement.Status.REVERSED)
PAYABLE = {Payout.Purpose.SELLER_PAYOUT: AccountCategory.SELLER_PAYABLE,
           Payout.Purpose.BUYER_REFUND: AccountCategory.BUYER_REFUND_PAYABLE}
DONE_KIND = {Payout.Purpose.SELLER_PAYOUT: EntryKind.PAYOUT, Payout.Purpose.BUYER_REFUND: EntryKind.REFUND_SENT}


class DisbursementError(Exception):
    def __init__(self, message: str, code: str = "refused"):
        super().__init__(message)
        self.message = message
        self.code = code


def _backoff(steps: list, attempt: int) -> dt.timedelta:
    return steps[min(attempt, len(steps) - 1)]


def new_partner_reference(reference: str) -> str:
    """``DSB`` + the transaction's reference + random: unique, and it says what it paid."""
    return f"DSB{reference.replace('-', '')}{secrets.token_hex(5).upper()}"


def _default_destination(user) -> PayoutDestination | None:
    return (PayoutDestination.objects.filter(owner=user, is_archived=False, is_default=True).first()
            or PayoutDestination.objects.filter(owner=user, is_archived=False).first())


# --- planning -------------------------------------------------------------------------------

def seller_payout_plan(*, escrow_transaction, amount: int, actor=None) -> Payout:
    """Plan paying the seller what the escrow release (or a split) made payable: one seller payout
    per transaction, so a flow run twice plans it once. Called by name by the flows that release
    escrow money (``escrow.services``, ``disputes.services``), inside their database transaction."""
    existing = escrow_transaction.payouts.filter(purpose=Payout.Purpose.SELLER_PAYOUT).first()
    if existing is not None:
        return existing
    return payout_plan(escrow_transaction=escrow_transaction, purpose=Payout.Purpose.SELLER_PAYOUT,
                       recipient=escrow_transaction.seller, amount=amount, actor=actor)


def payout_plan(*, escrow_transaction, purpose: str, recipient, amount: int, reason: str = "",
                destination: PayoutDestination | None = None, actor=None, use_default: bool = True) -> Payout:
    """Plan paying ``amount`` to ``recipient``; call inside the transaction that made it payable.
    ``use_default=False``: only ``destination`` (the caller applied its own rules, e.g. refunds'
    same-name rule); without one the payout waits for an account."""
    now = timezone.now()
    payout = Payout.objects.create(
        escrow_transaction=escrow_transaction, purpose=purpose, recipient=recipient, amount=amount,
        reason=reason[:255], status=Payout.Status.AWAITING_DESTINATION,
        due_at=(working_calendar().add_working_hours(now, rules.PAYOUT_PROMISE_WORKING_HOURS)
                if purpose == Payout.Purpose.SELLER_PAYOUT else None),
    )
    if destination is None and use_default:
        destination = _default_destination(recipient)
    if destination is not None and destination.can_receive_payouts:
        _create_parts(payout, destination, actor=actor)
    elif destination is not None and destination.kind == PayoutDestination.Kind.BANK \
            and destination.verification == PayoutDestination.Verification.UNVERIFIED:
        from .tasks import verify_destination

        verify_destination.delay_on_commit(destination.pk, payout.pk)
    audit_record(actor=actor, action="payout.plan", target=payout,
                 data={"amount": amount, "purpose": purpose, "status": payout.status})
    return payout


def _create_parts(payout: Payout, destination: PayoutDestination, *, actor=None, amount: int | None = None,
                  retry_of: Disbursement | None = None) -> list[Disbursement]:
    kind = Disbursement.Kind.EWALLET if destination.kind == PayoutDestination.Kind.EWALLET else Disbursement.Kind.BANK
    amounts = rules.split_amount(amount or payout.amount, rules.max_part(kind))
    reference = payout.escrow_transaction.reference
    start = payout.parts.count()
    now = timezone.now()
    parts = []
    for index, part_amount in enumerate(amounts, start=1):
        hold = rules.night_hold_until(now, kind)
        parts.append(Disbursement.objects.create(
            payout=payout, sequence=start + index, kind=kind, amount=part_amount,
            partner_reference_no=new_partner_reference(reference), destination=destination,
            bank_code=destination.bank_code, account_number=destination.account_number,
            account_name=destination.account_holder_name, ewallet_provider=destination.ewallet_provider,
            ewallet_phone=destination.ewallet_phone,
            description=rules.transfer_description(reference, index, len(amounts)),
            not_before=hold, waiting_for=Disbursement.Wait.NIGHT if hold else "",
            created_by=actor, retry_of=retry_of if index == 1 else None,
        ))
    payout.status = Payout.Status.IN_PROGRESS
    payout.save(update_fields=["status"])
    from .tasks import dispatch_disbursement

    for part in parts:
        if part.not_before is None:
            dispatch_disbursement.delay_on_commit(part.pk)
    return parts


def payout_use_destination(*, payout: Payout, destination: PayoutDestination, actor) -> list[Disbursement]:
    """A payout waiting for an account gets one (after the seller added or staff approved it)."""
    with transaction.atomic():
        payout = Payout.objects.select_for_update().get(pk=payout.pk)
        if payout.status != Payout.Status.AWAITING_DESTINATION:
            return []
        if destination.owner_id != payout.recipient_id or not destination.can_receive_payouts:
            raise DisbursementError(_("This account cannot receive the payout yet."), code="destination")
        return _create_parts(payout, destination, actor=actor)


def on_destination_added(sender, *, destination_id, **kwargs) -> None:
    """Receiver of ``accounts.signals.payout_destination_added``: check bank accounts at once."""
    from .tasks import verify_destination

    try:
        verify_destination.delay(destination_id)
    except Exception:  # noqa: BLE001 - broker down: the account is checked before its first payout
        logger.warning("could not enqueue the inquiry of destination %s", destination_id, exc_info=True)


# --- sending --------------------------------------------------------------------------------

def _reserve(part_id: int, now: dt.datetime) -> Disbursement | None:
    """Lock the part and reserve its quota; ``None`` when it must not (or cannot yet) be sent."""
    with transaction.atomic():
        part = Disbursement.objects.select_for_update(skip_locked=True).filter(pk=part_id).first()
        if part is None or part.status != Disbursement.Status.QUEUED:
            return None  # another worker has it, or it is already on its way
        if part.not_before and part.not_before > now:
            return None
        hold = rules.night_hold_until(now, part.kind)
        if hold is not None:
            part.not_before, part.waiting_for = hold, Disbursement.Wait.NIGHT
            part.save(update_fields=["not_before", "waiting_for"])
            return None
        today = wib_date(now)
        if not quota.reserve(today, part.amount):
            part.not_before = rules.start_of_next_wib_day(now)
            part.waiting_for = Disbursement.Wait.DAILY_LIMIT
            part.save(update_fields=["not_before", "waiting_for"])
            return None
        part.status = Disbursement.Status.SENDING
        part.quota_day = today
        part.waiting_for = ""
        part.attempts += 1
        part.sent_at = part.sent_at or now
        part.next_attempt_at = now + _lease()
        part.save(update_fields=["status", "quota_day", "waiting_for", "attempts", "sent_at", "next_attempt_at"])
        return part


def _send(client, part: Disbursement) -> SnapResult:
    """The transfer request of ``part``. Built only from the part's stored rows — the
    ``transactionDate`` is the first send's time — so a resend carries the very same body under the
    same partnerReferenceNo; only the headers the protocol requires to change (timestamp,
    signature, X-EXTERNAL-ID) differ."""
    payout = part.payout
    timestamp = snap.snap_timestamp(part.sent_at)
    callback = settings.SITE_URL + "/pencairan/sendme/callback/"
    if part.kind == Disbursement.Kind.EWALLET:
        return client.emoney_topup(
            partner_reference_no=part.partner_reference_no, amount=part.amount, phone="0" + part.ewallet_phone.removeprefix("+62"),
            platform=part.ewallet_provider, email=payout.recipient.email, description=part.description,
            transaction_date=timestamp, callback_url=callback)
    return client.transfer_interbank(
        partner_reference_no=part.partner_reference_no, amount=part.amount, account_name=part.account_name,
        account_number=part.account_number, bank_code=part.bank_code, email=payout.recipient.email,
        description=part.description, transaction_date=timestamp, callback_url=callback)


def disbursement_dispatch(*, disbursement_id: int, client=None, now: dt.datetime | None = None) -> str:
    """Send one queued part if its quota and time allow. Returns the part's status afterwards."""
    part = _reserve(disbursement_id, now or timezone.now())
    if part is None:
        return Disbursement.objects.filter(pk=disbursement_id).values_list("status", flat=True).first() or ""
    return _send_and_record(part, client or default_client())


def _send_and_record(part: Disbursement, client) -> str:
    try:
        result = _send(client, part)
    except SendMeUnreachable as exc:
        return _record(part.pk, None, error=str(exc))
    return _record(part.pk, result)


def _record(part_id: int, result: SnapResult | None, *, error: str = "", inquiry: bool = False) -> str:
    """Apply a SendMe answer (``None`` = no answer) to the part, in one short transaction."""
    now = timezone.now()
    with transaction.atomic():
        # Locks the payout row too, so two parts finishing at once cannot both miss completion.
        part = (Disbursement.objects.select_for_update(of=("self", "payout")).select_related("payout")
                .get(pk=part_id))
        reversal = result is not None and result.latest_status == outcomes.REVERSED
        if part.status in FINAL or (part.status == Disbursement.Status.SUCCEEDED and not reversal):
            return part.status  # final already; a late or repeated answer changes nothing
        if part.status == Disbursement.Status.QUEUED:
            return part.status  # never sent: nothing SendMe says can apply to it
        if result is None:
            part.status = Disbursement.Status.UNKNOWN
            part.last_response_message = error[:255]
            part.next_attempt_at = now + _backoff(PENDING_POLL, 0)
            part.save()
            return part.status
        part.status_checks = part.status_checks + 1 if inquiry else 0
        part.last_response_code = result.response_code
        part.last_response_message = result.message[:255]
        if result.reference_no:
            part.provider_reference_no = result.reference_no
        outcome = outcomes.classify(result)
        if inquiry and outcomes.is_not_found(result):
            # SendMe has no such transfer. Only a part whose send is in doubt (sent, outcome
            # unknown) may be resent; one SendMe already accepted keeps waiting for its status.
            if part.status not in (Disbursement.Status.UNKNOWN, Disbursement.Status.SENDING) or not part.sent_at:
                part.next_attempt_at = now + _backoff(PENDING_POLL, part.status_checks)
            elif now - part.sent_at < NOT_FOUND_GRACE:
                part.status, part.next_attempt_at = Disbursement.Status.UNKNOWN, now + _backoff(PENDING_POLL, 0)
            else:
                part.status, part.next_attempt_at = Disbursement.Status.RETRYING, now
        elif outcome == outcomes.Outcome.ACCEPTED:
            _apply_latest_status(part, result.latest_status, now)
        elif outcome == outcomes.Outcome.NOT_PROCESSED:
            part.status = Disbursement.Status.RETRYING
            part.next_attempt_at = now + _backoff(RESEND_BACKOFF, part.attempts - 1)
        elif outcome == outcomes.Outcome.UNKNOWN:
            part.status = Disbursement.Status.UNKNOWN
            part.next_attempt_at = now + _backoff(PENDING_POLL, 0)
        else:
            _fail(part, f"{result.response_code} {result.message}", now)
        part.save()
        return part.status


def _apply_latest_status(part: Disbursement, status: str, now: dt.datetime) -> None:
    part.latest_transaction_status = status
    if status == outcomes.SUCCESS:
        _succeed(part, now)
    elif status in outcomes.FAILED:
        _fail(part, _("SendMe reports the transfer failed (%(status)s).") % {"status": status}, now)
    elif status == outcomes.REVERSED:
        _reverse(part, now)
    else:
        part.status = Disbursement.Status.PENDING
        part.next_attempt_at = now + _backoff(PENDING_POLL, part.status_checks)


def _ledger_category(part) -> str:
    return PAYABLE[part.payout.purpose]


def _succeed(part: Disbursement, now: dt.datetime) -> None:
    if part.status == Disbursement.Status.SUCCEEDED:
        return
    part.status = Disbursement.Status.SUCCEEDED
    part.completed_at = now
    part.next_attempt_at = None
    payout = part.payout
    txn = payout.escrow_transaction
    entry_post(
        idempotency_key=f"disbursement:{part.pk}:sent", kind=DONE_KIND[payout.purpose],
        memo=f"{txn.reference} {part.partner_reference_no} {part.provider_reference_no}", escrow_transaction=txn,
        lines=[debit(_ledger_category(part), part.amount), credit(AccountCategory.SENDME_DEPOSIT, part.amount)],
    )
    part.save()
    remaining = payout.parts.exclude(pk=part.pk).exclude(status__in=[Disbursement.Status.SUCCEEDED, *FINAL])
    failed_unreplaced = payout.parts.filter(status__in=[Disbursement.Status.FAILED, Disbursement.Status.REVERSED],
                                            retried_by__isnull=True)
    if not remaining.exists() and not failed_unreplaced.exists():
        payout.status = Payout.Status.COMPLETED
        payout.completed_at = now
        payout.save(update_fields=["status", "completed_at"])
        if payout.purpose == Payout.Purpose.SELLER_PAYOUT and txn.status == TxnStatus.CONFIRMED:
            transaction_services.transaction_mark_disbursed(escrow_transaction=txn)
    kind = "payout_sent" if payout.purpose == Payout.Purpose.SELLER_PAYOUT else "refund_sent"
    notify(event_key=f"disbursement:{part.pk}:succeeded", kind=kind, recipient=payout.recipient,
           context={"reference": txn.reference, "title": txn.title, "seller": txn.seller.full_name,
                    "amount": format_rupiah(part.amount), "destination": part.destination.label if part.destination else ""},
           link=txn.get_absolute_url())


def _fail(part: Disbursement, reason: str, now: dt.datetime) -> None:
    """Final failure: the quota goes back, the money stays payable, a person decides."""
    part.status = Disbursement.Status.FAILED
    part.failure_reason = reason[:255]
    part.completed_at = now
    part.next_attempt_at = None
    if part.quota_day:
        quota.release(part.quota_day, part.amount)
        part.quota_day = None  # released once: a later answer cannot give the quota back twice
    payout = part.payout
    payout.status = Payout.Status.NEEDS_ACTION
    payout.save(update_fields=["status"])
    if part.destination and part.last_response_code[:3] == "404" and part.last_response_code[-2:] == "11":
        PayoutDestination.objects.filter(pk=part.destination_id).update(
            verification=PayoutDestination.Verification.INVALID)
    txn = payout.escrow_transaction
    audit_record(actor=None, action="disbursement.failed", target=part, reason=reason,
                 data={"reference": txn.reference, "code": part.last_response_code})
    notify(event_key=f"disbursement:{part.pk}:failed", kind="payout_failed", recipient=payout.recipient,
           context={"reference": txn.reference, "title": txn.title, "seller": txn.seller.full_name,
                    "amount": format_rupiah(part.amount), "reason": reason},
           link="/akun/profil/")


def _reverse(part: Disbursement, now: dt.datetime) -> None:
    """A transfer that succeeded was reversed (04): the money is owed again; staff are alerted."""
    if part.status == Disbursement.Status.REVERSED:
        return
    was_succeeded = part.status == Disbursement.Status.SUCCEEDED
    part.status = Disbursement.Status.REVERSED
    part.latest_transaction_status = outcomes.REVERSED
    part.next_attempt_at = None
    payout = part.payout
    txn = payout.escrow_transaction
    if was_succeeded:
        entry_post(
            idempotency_key=f"disbursement:{part.pk}:reversed", kind=EntryKind.PAYOUT_REVERSED,
            memo=f"{txn.reference} {part.partner_reference_no} reversed", escrow_transaction=txn,
            lines=[debit(AccountCategory.SENDME_DEPOSIT, part.amount), credit(_ledger_category(part), part.amount)],
        )
    payout.status = Payout.Status.NEEDS_ACTION
    payout.save(update_fields=["status"])
    audit_record(actor=None, action="disbursement.reversed", target=part,
                 reason="SendMe latestTransactionStatus 04", data={"reference": txn.reference})


# --- resolving ------------------------------------------------------------------------------

def disbursement_resolve(*, disbursement_id: int, client=None) -> str:
    """Move a part whose outcome is open: resend (same reference) or ask SendMe's status."""
    now = timezone.now()
    client = client or default_client()
    with transaction.atomic():
        part = Disbursement.objects.select_for_update(skip_locked=True).filter(pk=disbursement_id).first()
        if part is None or part.next_attempt_at is None or part.next_attempt_at > now:
            return part.status if part else ""
        action = None
        if part.status == Disbursement.Status.RETRYING:
            action = "resend"
            part.status = Disbursement.Status.SENDING
            part.attempts += 1
        elif part.status in (Disbursement.Status.UNKNOWN, Disbursement.Status.PENDING, Disbursement.Status.SENDING):
            action = "inquire"  # a SENDING part past its lease: its worker died mid-call
        if action is None:
            return part.status
        part.next_attempt_at = now + _lease()
        part.save(update_fields=["status", "attempts", "next_attempt_at"])
    if action == "resend":
        return _send_and_record(part, client)
    return disbursement_inquire(disbursement_id=part.pk, client=client)


def disbursement_inquire(*, disbursement_id: int, client=None) -> str:
    part = Disbursement.objects.get(pk=disbursement_id)
    if part.status in (Disbursement.Status.QUEUED, *FINAL):
        return part.status  # never sent, or settled for good: nothing to ask
    client = client or default_client()
    try:
        result = client.transfer_status(partner_reference_no=part.partner_reference_no,
                                        reference_no=part.provider_reference_no,
                                        topup=part.kind == Disbursement.Kind.EWALLET)
    except SendMeUnreachable as exc:
        Disbursement.objects.filter(pk=part.pk).update(next_attempt_at=timezone.now() + _backoff(PENDING_POLL, 1),
                                                       last_response_message=str(exc)[:255])
        return part.status
    if outcomes.classify(result) != outcomes.Outcome.ACCEPTED and not outcomes.is_not_found(result):
        Disbursement.objects.filter(pk=part.pk).update(next_attempt_at=timezone.now() + _backoff(PENDING_POLL, 1),
                                                       last_response_code=result.response_code)
        return part.status
    return _record(part.pk, result, inquiry=True)


def disbursement_retry(*, disbursement: Disbursement, actor, destination: PayoutDestination | None = None) -> list:
    """After a final failure a PERSON creates the retry: a new part, a new reference."""
    with transaction.atomic():
        failed = Disbursement.objects.select_for_update().select_related("payout").get(pk=disbursement.pk)
        if failed.status not in (Disbursement.Status.FAILED, Disbursement.Status.REVERSED):
            raise DisbursementError(_("Only a failed or reversed transfer can be retried."), code="not_failed")
        if hasattr(failed, "retried_by"):
            raise DisbursementError(_("This transfer was already retried."), code="already_retried")
        destination = destination or failed.destination
        if destination is None or not destination.can_receive_payouts or destination.owner_id != failed.payout.recipient_id:
            raise DisbursementError(_("Choose a verified account of the recipient."), code="destination")
        audit_record(actor=actor, action="disbursement.retry", target=failed, data={"destination": destination.pk})
        return _create_parts(failed.payout, destination, actor=actor, amount=failed.amount, retry_of=failed)


# --- destinations and limits ----------------------------------------------------------------

def destination_verify(*, destination_id: int, client=None) -> str:
    """Check a bank account with account-inquiry-external before first use (terms: data of the
    recipient); a holder name that is not the owner's blocks it until staff approve."""
    destination = PayoutDestination.objects.select_related("owner").get(pk=destination_id)
    if destination.kind != PayoutDestination.Kind.BANK or destination.verification != PayoutDestination.Verification.UNVERIFIED:
        return destination.verification
    client = client or default_client()
    try:
        result = client.account_inquiry(bank_code=destination.bank_code, account_number=destination.account_number,
                                        partner_reference_no=f"INQ{destination.pk}{secrets.token_hex(4).upper()}")
    except SendMeUnreachable:
        return destination.verification  # try again later; nothing learned
    with transaction.atomic():
        destination = PayoutDestination.objects.select_for_update().get(pk=destination_id)
        if result.response_code.startswith("200"):
            name = str(result.body.get("beneficiaryAccountName", ""))[:100]
            destination.verified_name = name
            destination.verified_at = timezone.now()
            destination.verification = (
                PayoutDestination.Verification.VERIFIED
                if rules.names_match(destination.owner.full_name, name) and rules.names_match(destination.account_holder_name, name)
                else PayoutDestination.Verification.NAME_MISMATCH)
        elif result.response_code[:3] == "404" and result.case == "11":
            destination.verification = PayoutDestination.Verification.INVALID
        else:
            return destination.verification
        destination.save(update_fields=["verified_name", "verified_at", "verification"])
        audit_record(actor=None, action="payout_destination.inquiry", target=destination,
                     data={"result": destination.verification, "code": result.response_code})
        if destination.can_receive_payouts:
            for payout in Payout.objects.filter(recipient=destination.owner, status=Payout.Status.AWAITING_DESTINATION):
                payout_use_destination(payout=payout, destination=destination, actor=None)
        return destination.verification


def daily_limit_change(*, limit: int, effective_from: dt.date, actor, reason: str) -> DailyLimitChange:
    """Record a new Daily Nominal Total agreed with Faspay (terms A), and apply it to quota rows."""
    if not check_rupiah_range(limit, minimum=1, maximum=RUPIAH_CEILING):
        raise DisbursementError(_("The daily limit must be between %(min)s and %(max)s.")
                                % {"min": format_rupiah(1), "max": format_rupiah(RUPIAH_CEILING)},
                                code="invalid_limit")
    if not reason.strip():
        raise DisbursementError(_("Please give a reason."), code="reason_required")
    with transaction.atomic():
        change = DailyLimitChange.objects.create(effective_from=effective_from, limit=limit, changed_by=actor,
                                                 reason=reason.strip()[:255])
        quota.apply_limit_change(effective_from=effective_from, limit=limit)
        audit_record(actor=actor, action="sendme.daily_limit_change", target=change, reason=reason,
                     data={"limit": limit, "effective_from": effective_from.isoformat()})
        return change


def callback_receive(*, partner_reference_no: str, replay_keys: list[str] | tuple[str, ...] = ()) -> bool:
    """A SendMe callback is a hint: look the status up (the inquiry decides).

    ``replay_keys`` identify this delivery (its signature, its ``X-EXTERNAL-ID``): a delivery seen
    within the callback window is answered the same but asks for no second inquiry, so replaying
    a signed callback cannot multiply status inquiries.
    """
    part = Disbursement.objects.filter(partner_reference_no=partner_reference_no).first()
    if part is None:
        return False
    window = 2 * settings.SENDME_CALLBACK_TIMESTAMP_TOLERANCE_SECONDS + 60
    first_delivery = True
    for key in replay_keys:
        first_delivery = cache.add(f"sendme-callback:{key}", part.pk, timeout=window) and first_delivery
    if not first_delivery:
        logger.info("SendMe callback for %s replayed; no second inquiry", partner_reference_no)
        return True
    from .tasks import inquire_disbursement

    inquire_disbursement.delay(part.pk)
    return True
