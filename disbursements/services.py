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

Payouts and parts are state machines (``models``); their statuses change only through the
transitions declared there. Locks follow ``intrasa.locks``: applying an answer locks the escrow
transaction, then the payout, then the part, because a last success may close the transaction.
"""
import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Case, F, Max, OuterRef, Q, When
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import PayoutDestination
from accounts.roles import FINANCE, mail_group
from accounts.selectors import payout_destination_default
from audit.services import audit_record
from faspay import outcomes, signing, urls
from faspay.errors import FaspayUnavailable
from faspay.results import TransferAnswer, TransferResult
from faspay.sendme import default_client
from intrasa import jobs, locks
from intrasa.errors import ServiceError
from intrasa.money import RUPIAH_CEILING, check_rupiah_range, format_rupiah
from intrasa.wib import format_wib, wib_date
from ledger.models import AccountCategory, EntryKind
from ledger.services import credit, debit, entry_post
from notifications.services import notify, notify_many
from transactions import services as transaction_services
from transactions.models import EscrowTransaction
from transactions.models import Status as TxnStatus
from transactions.writes import write_together
from workdays.calendar import working_calendar

from . import quota, rules, selectors
from .models import DailyLimitChange, Disbursement, Payout, RetryApproval

logger = logging.getLogger(__name__)


QUEUE_ORDER = selectors.QUEUE_ORDER


def _lease() -> dt.timedelta:
    """How long a ``sending`` part belongs to the worker sending it; longer than any call's
    timeout. When it runs out the worker is presumed dead and the part goes to a status inquiry."""
    return dt.timedelta(seconds=settings.SENDME_SEND_LEASE_SECONDS)

RESEND_BACKOFF = [dt.timedelta(seconds=s) for s in (5, 30, 120, 600, 1800)]
PENDING_POLL = [dt.timedelta(seconds=s) for s in (30, 60, 300, 900, 3600)]
NOT_FOUND_GRACE = dt.timedelta(minutes=2)  # a transfer SendMe has not recorded after this never arrived

# A part in one of these states never changes again (a reversal only follows a success).
FINAL = (Disbursement.Status.FAILED, Disbursement.Status.CANCELLED, Disbursement.Status.REVERSED)
# Keyed by Payout.purpose as stored (a str); the enum members hash and compare as their values.
PAYABLE: dict[str, str] = {Payout.Purpose.SELLER_PAYOUT: AccountCategory.SELLER_PAYABLE,
           Payout.Purpose.BUYER_REFUND: AccountCategory.BUYER_REFUND_PAYABLE}
DONE_KIND: dict[str, str] = {Payout.Purpose.SELLER_PAYOUT: EntryKind.PAYOUT,
                             Payout.Purpose.BUYER_REFUND: EntryKind.REFUND_SENT}


class DisbursementError(ServiceError):
    pass


@dataclass
class _Answer:
    """What SendMe said about one part (``result`` ``None``: no answer, ``error`` says why)."""
    part_id: int
    result: TransferAnswer | None
    error: str = ""
    inquiry: bool = False


def _backoff(steps: list, attempt: int) -> dt.timedelta:
    return steps[min(attempt, len(steps) - 1)]


def new_partner_reference(reference: str) -> str:
    """``DSB`` + the transaction's reference + random: unique, and it says what it paid."""
    return f"DSB{reference.replace('-', '')}{secrets.token_hex(5).upper()}"


def _default_destination(user) -> PayoutDestination | None:
    # One rule for "where the money goes by default", shown to staff before they approve a refund too.
    return payout_destination_default(owner=user)


def _default_destination_with_day_limit(user, now: dt.datetime) -> tuple[PayoutDestination | None, int | None]:
    """``_default_destination`` and the Daily Nominal Total in force (``quota.limit_for``) on the
    day its first part may go out from ``now``, read by one query: splitting the payout needs both.
    That day depends on the account's kind (the night window), so the query picks it."""
    def day_limit(kind: str):
        return quota.limit_for_expression(wib_date(rules.earliest_send(now, kind)))

    destination: Any = payout_destination_default(owner=user, day_limit=Case(
        When(kind=PayoutDestination.Kind.EWALLET, then=day_limit(Disbursement.Kind.EWALLET)),
        default=day_limit(Disbursement.Kind.BANK)))
    return destination, (destination.day_limit if destination is not None else None)


# --- planning -------------------------------------------------------------------------------

def seller_payout_plan(*, escrow_transaction, amount: int, actor=None, first_release: bool = False) -> Payout:
    """Plan paying the seller what the escrow release (or a split) made payable: one seller payout
    per transaction, so a flow run twice plans it once. Called by name by the flows that release
    escrow money (``escrow.services``, ``disputes.services``), inside their database transaction.

    ``first_release``: the caller has just confirmed the transaction from *shipped*, under its lock.
    A shipped transaction never had a payout (it is reached only from verified, and no state with
    a payout leads back to it), so there is none to look up: the flow cannot run twice, its
    confirmation would be refused first."""
    if not first_release:
        existing = escrow_transaction.payouts.filter(purpose=Payout.Purpose.SELLER_PAYOUT).first()
        if existing is not None:
            return existing
    return payout_plan(escrow_transaction=escrow_transaction, purpose=Payout.Purpose.SELLER_PAYOUT,
                       recipient=escrow_transaction.seller, amount=amount, actor=actor)


def _set_off(payout: Payout, now: dt.datetime) -> list[str]:
    """The money sets off to an account now (``Payout.sending_since``); a promise counted in working days
    from then (a refund's) moves with it. Returns the fields changed."""
    payout.sending_since = now
    if payout.due_working_days is None:
        return ["sending_since"]
    payout.due_at = working_calendar().add_working_days(now, payout.due_working_days)
    return ["sending_since", "due_at"]


def _seller_promise(counted_from: dt.datetime, calendar=None) -> dt.datetime:
    """FAQ: the seller is paid within 1×24 working hours (of the buyer's confirmation)."""
    return (calendar or working_calendar()).add_working_hours(counted_from, rules.PAYOUT_PROMISE_WORKING_HOURS)


def _promise_on(calendar, *, due_working_days, sending_since, promise_counted_from) -> dt.datetime | None:
    """A payout's promise counted on ``calendar``; None when it is fixed."""
    if due_working_days is not None and sending_since is not None:  # a refund's window from when it set off
        return calendar.add_working_days(sending_since, due_working_days)
    if promise_counted_from is not None:  # a seller's 1×24
        return _seller_promise(promise_counted_from, calendar)
    return None


def payout_promise_recount(*, payout: Payout, calendar=None, now: dt.datetime | None = None) -> bool:
    """Count an open payout's promise again on the working-day calendar of now: a refund's, in working days
    from when the money set off (``Payout.due_working_days``), and a seller's, the FAQ's 1×24 working hours
    from when it was planned (``Payout.promise_counted_from``). Staff may have declared a day off, or a
    working day, since it was counted; Cek Transaksi and the buyer's refund-by date are computed on the
    calendar of now, and the queue's promise (its order, the payout card's "promised by", the treasury's
    "overdue") must say the same date. A promise that has already passed is not counted again: it was
    broken, and a day off declared afterwards does not make it "not yet due". The caller holds the payout's
    lock (``intrasa.locks``). Returns whether it moved."""
    now = now or timezone.now()
    if payout.status not in selectors.OPEN_PAYOUT or (payout.due_at is not None and payout.due_at <= now):
        return False
    due_at = _promise_on(calendar or working_calendar(), due_working_days=payout.due_working_days,
                         sending_since=payout.sending_since, promise_counted_from=payout.promise_counted_from)
    if due_at is None or due_at == payout.due_at:
        return False
    before, payout.due_at = payout.due_at, due_at
    payout.save(update_fields=["due_at"])
    audit_record(actor=None, action="payout.promise_recounted", target=payout,
                 reason="working-day calendar changed",
                 data={"before": before.isoformat() if before else None, "after": due_at.isoformat()})
    return True


def payout_promises_recount_all(*, now: dt.datetime | None = None) -> int:
    """Every open payout whose promise is counted on the working-day calendar and has not passed,
    counted again (``payout_promise_recount``). The calendar changes a few times a year, so the promises are
    first counted from one plain read (one calendar, no lock); only a payout whose promise differs is locked,
    counted again under its lock and saved, each in its own transaction. Returns how many moved. (The refund
    beat job also recounts its refunds' payouts, before it reads their dates.)"""
    now = now or timezone.now()
    calendar = working_calendar()
    promises = Payout.objects.filter(
        Q(due_working_days__isnull=False, sending_since__isnull=False) | Q(promise_counted_from__isnull=False),
        status__in=selectors.OPEN_PAYOUT, due_at__gt=now,
    ).values_list("pk", "due_at", "due_working_days", "sending_since", "promise_counted_from")
    stale = [pk for pk, due_at, days, since, counted_from in promises.iterator()
             if due_at != _promise_on(calendar, due_working_days=days, sending_since=since,
                                      promise_counted_from=counted_from)]
    moved = 0
    for pk in stale:
        with transaction.atomic():
            moved += payout_promise_recount(payout=locks.lock(Payout, pk), calendar=calendar, now=now)
    return moved


def on_calendar_changed(sender, **kwargs) -> None:
    """Receiver of ``workdays.signals.calendar_changed`` (after the change committed): the promises
    are counted again at once, on the housekeeping queue rather than in the staff member's request.
    If the broker cannot take it, the 15-minute beat job of the same task does it."""
    jobs.enqueue("disbursements.tasks.recount_payout_promises")


def payout_plan(*, escrow_transaction, purpose: str, recipient, amount: int, reason: str = "",
                destination: PayoutDestination | None = None, actor=None,
                due_at: dt.datetime | None = None, use_default: bool = True,
                now: dt.datetime | None = None, due_working_days: int | None = None) -> Payout:
    """Plan paying ``amount`` to ``recipient``; call inside the transaction that made it payable.

    ``due_at`` is the promise the payout queue is ordered by: a seller payout's is the FAQ's 1×24
    working hours from now; a refund brings its own (the refund policy's transfer time), as
    ``due_working_days`` counted from when the money sets off (the account may come later).
    ``use_default=False``: only ``destination`` (the caller applied its own rules, e.g. refunds'
    same-name rule); without one the payout waits for an account. ``now``: the caller's moment of the
    decision (a refund's approval), so the money sets off (``sending_since``) at that very instant."""
    now = now or timezone.now()
    if due_working_days is not None:
        due_at = working_calendar().add_working_days(now, due_working_days)  # at the earliest it sets off now
    promise_counted_from = None
    if due_at is None and purpose == Payout.Purpose.SELLER_PAYOUT:
        promise_counted_from = now
        due_at = _seller_promise(now)
    payout = Payout(
        escrow_transaction=escrow_transaction, purpose=purpose, recipient=recipient, amount=amount,
        reason=reason[:255], due_at=due_at, due_working_days=due_working_days,
        promise_counted_from=promise_counted_from,
    )
    day_limit = None
    if destination is None and use_default:
        destination, day_limit = _default_destination_with_day_limit(recipient, now)
    paying = destination is not None and destination.can_receive_payouts
    if paying:
        assert destination is not None
        payout.start_paying()  # its parts follow in this database transaction: written already paying
        _set_off(payout, now)
        parts = _new_parts(payout, destination, actor=actor, first=True, now=now, day_limit=day_limit)
        write_together(inserts=[payout, *parts])  # the payout and its parts: one statement
        _dispatch_after_commit(parts)
    else:
        payout.save()
    if not paying and destination is not None and destination.kind == PayoutDestination.Kind.BANK \
            and destination.verification == PayoutDestination.Verification.UNVERIFIED:
        from .tasks import verify_destination

        verify_destination.delay_on_commit(destination.pk, payout.pk)
    audit_record(actor=actor, action="payout.plan", target=payout,
                 data={"amount": amount, "purpose": purpose, "status": payout.status})
    return payout


def _create_parts(payout: Payout, destination: PayoutDestination, *, actor=None, amount: int | None = None,
                  retry_of: Disbursement | None = None, split_day: dt.date | None = None) -> list[Disbursement]:
    """The parts of ``payout`` (planned earlier) to ``destination``, saved; the payout is paying. Unless they
    only re-split a part for the daily limit (``split_day``), the money sets off now (``sending_since``)."""
    parts = _new_parts(payout, destination, actor=actor, amount=amount, retry_of=retry_of, split_day=split_day)
    for part in parts:
        part.save(force_insert=True)
    payout.start_paying()
    changed = _set_off(payout, timezone.now()) if split_day is None else []
    payout.save(update_fields=["status", *changed])
    _dispatch_after_commit(parts)
    return parts


def _dispatch_after_commit(parts: list[Disbursement]) -> None:
    from .tasks import dispatch_disbursement

    for part in parts:
        if part.not_before is None:
            dispatch_disbursement.delay_on_commit(part.pk)


def _new_parts(payout: Payout, destination: PayoutDestination, *, actor=None, amount: int | None = None,
               retry_of: Disbursement | None = None, split_day: dt.date | None = None,
               first: bool = False, now: dt.datetime | None = None,
               day_limit: int | None = None) -> list[Disbursement]:
    """The parts paying ``payout`` (or ``amount`` of it) to ``destination``, not saved yet. ``first``:
    the payout is being planned and has none yet. ``day_limit``: the Daily Nominal Total in force
    on the day the parts may first go out from ``now``, when the caller read it already."""
    kind = Disbursement.Kind.EWALLET if destination.kind == PayoutDestination.Kind.EWALLET else Disbursement.Kind.BANK
    now = now or timezone.now()
    amounts = _split(amount or payout.amount, kind, split_day or wib_date(rules.earliest_send(now, kind)),
                     day_limit=None if split_day else day_limit)
    reference = payout.escrow_transaction.reference
    start = 0 if first else payout.parts.aggregate(last=Max("sequence"))["last"] or 0  # first: a payout just planned
    parts = []
    for index, part_amount in enumerate(amounts, start=1):
        hold = rules.night_hold_until(now, kind)
        parts.append(Disbursement(
            payout=payout, sequence=start + index, kind=kind, amount=part_amount,
            partner_reference_no=new_partner_reference(reference), destination=destination,
            bank_code=destination.bank_code, account_number=destination.account_number,
            account_name=destination.account_holder_name, ewallet_provider=destination.ewallet_provider,
            ewallet_phone=destination.ewallet_phone,
            description=rules.transfer_description(reference, index, len(amounts)),
            not_before=hold, waiting_for=Disbursement.Wait.NIGHT if hold else "",
            created_by=actor, retry_of=retry_of if index == 1 else None,
        ))
    return parts


def _split(amount: int, kind: str, day: dt.date, *, day_limit: int | None = None) -> list[int]:
    """Parts no larger than a transfer of ``kind`` may be nor than ``day``'s Daily Nominal Total
    (``day_limit`` when the caller read it with its destination), none smaller than the minimum a
    bank or e-wallet accepts."""
    minimum = rules.min_part(kind)
    limit = max(rules.part_limit(kind, quota.limit_for(day) if day_limit is None else day_limit), 2 * minimum)
    return rules.split_amount(amount, limit, minimum)


def payout_use_destination(*, payout: Payout, destination: PayoutDestination, actor) -> list[Disbursement]:
    """A payout waiting for an account gets one (after the seller added or staff approved it)."""
    with transaction.atomic():
        payout = locks.lock(Payout, payout.pk, related=("escrow_transaction",))
        if payout.status != Payout.Status.AWAITING_DESTINATION:
            return []
        if destination.owner_id != payout.recipient_id or not destination.can_receive_payouts:
            raise DisbursementError(_("This account cannot receive the payout yet."), code="destination")
        return _create_parts(payout, destination, actor=actor)


def seller_payouts_take_ready_accounts(*, limit: int = 200) -> int:
    """Seller payouts waiting for an account whose seller's default account can now receive
    payouts — staff approved a holder-name mismatch in the admin, say — take it. Run by the
    dispatch beat job, so no path that makes an account usable leaves a payout waiting for good."""
    waiting = (Payout.objects.filter(status=Payout.Status.AWAITING_DESTINATION, purpose=Payout.Purpose.SELLER_PAYOUT)
               .select_related("recipient").order_by(F("due_at").asc(nulls_last=True), "created_at", "pk")[:limit])
    taken = 0
    for payout in waiting:
        destination = _default_destination(payout.recipient)
        if destination is not None and destination.can_receive_payouts:
            taken += bool(payout_use_destination(payout=payout, destination=destination, actor=None))
    return taken


def on_destination_added(sender, *, destination_id, **kwargs) -> None:
    """Receiver of ``accounts.signals.payout_destination_added``: check bank accounts at once."""
    from .tasks import verify_destination

    try:
        verify_destination.delay(destination_id)
    except Exception:  # noqa: BLE001 - broker down: the account is checked before its first payout
        logger.warning("could not enqueue the inquiry of destination %s", destination_id, exc_info=True)


# --- sending --------------------------------------------------------------------------------

# A payout part of a reversed payment is looked at again this often (until staff book the reversal).
REVERSED_PAYMENT_RECHECK = dt.timedelta(hours=1)


def _of_unbooked_reversal() -> dict:
    """The annotation a payout part's lock reads along with the part (no query of its own): whether its
    transaction has a payment the provider reversed and staff have not booked yet (``payments.selectors``).
    Then a refund would pay the buyer twice (the buyer has the money back) and a seller payout would pay out
    money Faspay took back. Approval refuses such a refund; this covers one approved before the reversal was
    known, and every seller payout, whose account came later or which waited for the daily limit. Booking
    the reversal decides what is still sent."""
    from payments.selectors import unbooked_reversal_of

    return {"of_unbooked_reversal": unbooked_reversal_of(OuterRef("payout__escrow_transaction"))}


def _reserve(part_id: int, now: dt.datetime) -> Disbursement | None:
    """Lock the part and reserve its quota; ``None`` when it must not (or cannot yet) be sent.

    A never-sent part larger than today's Daily Nominal Total (the limit was lowered after it was
    planned) would wait forever: it is re-split instead (``_resplit``)."""
    resplit = False
    with transaction.atomic():
        part = locks.lock(Disbursement, part_id, skip_locked=True, annotate=_of_unbooked_reversal())
        if part is None or part.status != Disbursement.Status.QUEUED:
            return None  # another worker has it, or it is already on its way
        if part.not_before and part.not_before > now:
            return None
        if part.of_unbooked_reversal:
            logger.warning("payout part %s not sent: the buyer's payment was reversed by the provider", part.pk)
            part.not_before, part.waiting_for = now + REVERSED_PAYMENT_RECHECK, Disbursement.Wait.REVERSED_PAYMENT
            part.save(update_fields=["not_before", "waiting_for"])
            return None
        hold = rules.night_hold_until(now, part.kind)
        if hold is not None:
            part.not_before, part.waiting_for = hold, Disbursement.Wait.NIGHT
            part.save(update_fields=["not_before", "waiting_for"])
            return None
        today = wib_date(now)
        if part.sent_at is None and part.amount > quota.limit_for(today):
            resplit = True
        elif not quota.reserve(today, part.amount):
            part.not_before = rules.start_of_next_wib_day(now)
            part.waiting_for = Disbursement.Wait.DAILY_LIMIT
            part.save(update_fields=["not_before", "waiting_for"])
            return None
        if not resplit:
            part.start_sending(quota_day=today, now=now, lease_until=now + _lease())
            part.save(update_fields=["status", "quota_day", "waiting_for", "attempts", "sent_at", "next_attempt_at"])
            return part
    _resplit(part_id, today)
    return None


def _resplit(part_id: int, day: dt.date) -> list[Disbursement]:
    """Replace a never-sent part larger than ``day``'s Daily Nominal Total by parts the day can
    carry (new references: the old one never reached SendMe). The payout is locked before the part
    (``intrasa.locks``), so this is its own short transaction."""
    payout_id = Disbursement.objects.filter(pk=part_id).values_list("payout_id", flat=True).get()
    with transaction.atomic():
        payout = locks.lock(Payout, payout_id, related=("escrow_transaction",))
        part = locks.lock(Disbursement, part_id)
        limit = quota.limit_for(day)
        if part.status != Disbursement.Status.QUEUED or part.sent_at is not None or part.amount <= limit:
            return []
        part.resplit()
        part.save(update_fields=["status", "failure_reason", "next_attempt_at"])
        destination = part.destination
        new_parts = _create_parts(payout, destination, amount=part.amount, split_day=day)
        audit_record(actor=None, action="disbursement.resplit", target=part,
                     reason=f"larger than the daily limit of {day} ({limit})",
                     data={"amount": part.amount, "limit": limit,
                           "parts": [(p.partner_reference_no, p.amount) for p in new_parts]})
        return new_parts


def _send(client, part: Disbursement) -> TransferResult:
    """The transfer request of ``part``. Built only from the part's stored rows — the
    ``transactionDate`` is the first send's time — so a resend carries the very same body under the
    same partnerReferenceNo; only the headers the protocol requires to change (timestamp,
    signature, X-EXTERNAL-ID) differ."""
    payout = part.payout
    timestamp = signing.snap_timestamp(part.sent_at)
    callback = urls.sendme_callback_url(settings.SITE_URL)
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
    reserved = _reserve_many([disbursement_id], now or timezone.now())
    if not reserved:
        return Disbursement.objects.filter(pk=disbursement_id).values_list("status", flat=True).first() or ""
    answer = _send_answer(client or default_client(), reserved[0])
    return _record_batch([answer], _owners(reserved)).get(disbursement_id, reserved[0].status)


# Parts reserved, sent and recorded together by the periodic jobs: the statements of a chunk's
# locks and bulk writes are shared by its parts, and a chunk's sends (one after the other, no lock
# held) stay well within their leases.
CHUNK = 10


def _chunks(ids: list[int]):
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def _owners(parts: list[Disbursement]) -> dict[int, tuple[int, int]]:
    return {part.pk: (part.payout_id, part.payout.escrow_transaction_id) for part in parts}


def _send_lease(now: dt.datetime, position: int) -> dt.datetime:
    """The lease of the ``position``-th send of a chunk: the sends before it may each take a timeout."""
    return now + _lease() + position * dt.timedelta(seconds=settings.FASPAY_HTTP_TIMEOUT_SECONDS)


def disbursements_dispatch_due(*, ids: list[int], client=None, now: dt.datetime | None = None) -> int:
    """Send the queued parts ``ids`` (in queue order), a chunk at a time: reserve the chunk's quota
    in one transaction (``_reserve_many``), send each part with no lock held, then apply the
    answers in one transaction (``_record_batch``). The same rules as ``disbursement_dispatch``,
    part by part. Returns how many parts were looked at."""
    client = client or default_client()
    for chunk in _chunks(ids):
        reserved = _reserve_many(chunk, now or timezone.now())
        answers = [_send_answer(client, part) for part in reserved]
        _record_batch(answers, _owners(reserved))
    return len(ids)


def _reserve_many(ids: list[int], now: dt.datetime) -> list[Disbursement]:
    """``_reserve`` for several parts (``ids`` in queue order) in one transaction: the parts locked
    in one statement (those another worker holds are skipped), each reserved on the day's quota by
    its own conditional UPDATE (``quota.reserve``: the limit holds under any concurrency), their new
    state written in bulk. Returns the parts to send now, each with its payout and recipient."""
    today = wib_date(now)
    resplit: list[int] = []
    with transaction.atomic():
        locked = {part.pk: part for part in locks.lock_all(
            Disbursement.objects.filter(pk__in=ids, status=Disbursement.Status.QUEUED)
            .select_related("payout__recipient").annotate(**_of_unbooked_reversal()), skip_locked=True)}
        limit = None
        reserved: list[Disbursement] = []
        waiting: list[Disbursement] = []
        for pk in ids:
            part = locked.get(pk)
            if part is None or (part.not_before and part.not_before > now):
                continue
            if part.of_unbooked_reversal:  # Faspay took this payment back: waits for staff to book it
                logger.warning("payout part %s not sent: the buyer's payment was reversed by the provider", pk)
                part.not_before, part.waiting_for = now + REVERSED_PAYMENT_RECHECK, Disbursement.Wait.REVERSED_PAYMENT
                waiting.append(part)
                continue
            hold = rules.night_hold_until(now, part.kind)
            if hold is not None:
                part.not_before, part.waiting_for = hold, Disbursement.Wait.NIGHT
                waiting.append(part)
                continue
            # The day's quota row carries the limit in force (``quota``), so a part that fits is not
            # larger than the limit; the limit is read only for a part that does not fit: a
            # never-sent part larger than the limit is re-split, any other waits for the next day.
            if not quota.reserve(today, part.amount):
                limit = quota.limit_for(today) if limit is None else limit
                if part.sent_at is None and part.amount > limit:
                    resplit.append(pk)
                    continue
                part.not_before = rules.start_of_next_wib_day(now)
                part.waiting_for = Disbursement.Wait.DAILY_LIMIT
                waiting.append(part)
                continue
            part.start_sending(quota_day=today, now=now, lease_until=_send_lease(now, len(reserved)))
            reserved.append(part)
        if waiting:
            Disbursement.objects.bulk_update(waiting, ["not_before", "waiting_for"])
        if reserved:
            Disbursement.objects.bulk_update(
                reserved, ["status", "quota_day", "waiting_for", "attempts", "sent_at", "next_attempt_at"])
    for pk in resplit:
        _resplit(pk, today)
    return reserved


def _send_answer(client, part: Disbursement) -> _Answer:
    """Send ``part`` (no transaction open) and keep SendMe's answer, or why there was none."""
    try:
        return _Answer(part.pk, _send(client, part))
    except FaspayUnavailable as exc:
        return _Answer(part.pk, None, error=str(exc))


def _send_and_record(part: Disbursement, client) -> str:
    try:
        result = _send(client, part)
    except FaspayUnavailable as exc:
        return _record(part.pk, None, error=str(exc))
    return _record(part.pk, result)


# Every column an answer may change on a part (saved for a whole batch in one UPDATE).
_ANSWER_FIELDS = ["status", "status_checks", "last_response_code", "last_response_message", "provider_reference_no",
                  "latest_transaction_status", "next_attempt_at", "completed_at", "failure_reason", "quota_day"]


def _record(part_id: int, result: TransferAnswer | None, *, error: str = "", inquiry: bool = False) -> str:
    """Apply a SendMe answer (``None`` = no answer) to the part, in one short transaction."""
    payout_id, transaction_id = (Disbursement.objects.filter(pk=part_id)
                                 .values_list("payout_id", "payout__escrow_transaction_id").get())
    owners = {part_id: (payout_id, transaction_id)}
    return _record_many([_Answer(part_id, result, error, inquiry)], owners)[part_id]


def _record_batch(answers: list[_Answer], owners: dict[int, tuple[int, int]]) -> dict[int, str]:
    """Apply a batch's answers in one transaction; if that fails, each on its own (one part whose
    answer cannot be applied must not keep the others of its batch from being recorded)."""
    if not answers:
        return {}
    try:
        return _record_many(answers, owners)
    except Exception:
        if len(answers) == 1:
            raise
        logger.exception("recording %d SendMe answers together failed; recording them one by one", len(answers))
    statuses = {}
    for answer in answers:
        try:
            statuses.update(_record_many([answer], owners))
        except Exception:
            logger.exception("recording SendMe's answer for part %s failed; its lease sends it to an inquiry",
                             answer.part_id)
    return statuses


def _record_many(answers: list[_Answer], owners: dict[int, tuple[int, int]]) -> dict[int, str]:
    """Apply answers to their parts in one transaction; ``owners`` maps each part to its payout and
    escrow transaction (which never change). Locks follow ``intrasa.locks``: the transactions (a last success closes one), then
    the payouts (two parts finishing at once cannot both miss its completion), then the parts —
    each kind in one statement, or the three rows of a single answer in one
    (``locks.lock_with_owners``). The parts, payouts and timeline rows then change in bulk
    (``_Effects``): a batch of answers costs a few statements plus about three per success."""
    now = timezone.now()
    part_ids = [answer.part_id for answer in answers]
    with transaction.atomic():
        if len(part_ids) == 1:  # one answer (a part's own dispatch): its three rows in one statement
            part = locks.lock_with_owners(Disbursement, part_ids[0], owners=("payout__escrow_transaction", "payout"),
                                          related=("destination", "payout__recipient",
                                                   "payout__escrow_transaction__seller",
                                                   "payout__escrow_transaction__buyer",
                                                   "payout__escrow_transaction__partner_transaction"))
            txns = {part.payout.escrow_transaction_id: part.payout.escrow_transaction}
            payouts, parts = {part.payout_id: part.payout}, {part.pk: part}
        else:
            txns = {txn.pk: txn for txn in locks.lock_all(
                EscrowTransaction.objects.filter(pk__in={owners[pk][1] for pk in part_ids})
                .select_related("seller", "buyer", "partner_transaction"))}
            payouts = {payout.pk: payout for payout in locks.lock_all(
                Payout.objects.filter(pk__in={owners[pk][0] for pk in part_ids}).select_related("recipient"))}
            parts = {part.pk: part for part in locks.lock_all(
                Disbursement.objects.filter(pk__in=part_ids).select_related("destination"))}
        for payout in payouts.values():
            payout.escrow_transaction = txns[payout.escrow_transaction_id]
        effects = _Effects(now)
        for answer in answers:
            part = parts[answer.part_id]
            part.payout = payouts[part.payout_id]
            if _apply(part, answer, now, effects):
                effects.changed.append(part)
        effects.flush()
        return {pk: part.status for pk, part in parts.items()}


def _apply(part: Disbursement, answer: _Answer, now: dt.datetime, effects: "_Effects") -> bool:
    """Apply one answer to its locked part in memory; ``False`` when it changes nothing."""
    result = answer.result
    reversal = result is not None and result.latest_status == outcomes.REVERSED
    if part.status in FINAL or (part.status == Disbursement.Status.SUCCEEDED and not reversal):
        return False  # final already; a late or repeated answer changes nothing
    if part.status in (Disbursement.Status.QUEUED, Disbursement.Status.HELD):
        # Never sent: nothing SendMe says can apply to it. Held: only a person releases it.
        return False
    if result is None:
        part.lose_track(check_at=now + _backoff(PENDING_POLL, 0), message=answer.error)
        return True
    part.status_checks = part.status_checks + 1 if answer.inquiry else 0
    part.last_response_code = result.response_code
    part.last_response_message = result.message[:255]
    if result.reference_no:
        part.provider_reference_no = result.reference_no
    outcome = outcomes.classify(result)
    if _unlisted(result, outcome):
        _hold_unlisted(part, result)
    elif answer.inquiry and outcomes.is_not_found(result):
        # SendMe has no such transfer. Only a part whose send is in doubt (sent, outcome
        # unknown) may be resent; one SendMe already accepted keeps waiting for its status.
        if part.status not in (Disbursement.Status.UNKNOWN, Disbursement.Status.SENDING) or not part.sent_at:
            part.next_attempt_at = now + _backoff(PENDING_POLL, part.status_checks)
        elif now - part.sent_at < NOT_FOUND_GRACE:
            part.lose_track(check_at=now + _backoff(PENDING_POLL, 0))
        else:
            part.plan_resend(at=now)
    elif outcome == outcomes.Outcome.ACCEPTED:
        _apply_latest_status(part, result.latest_status, now, effects)
    elif outcome == outcomes.Outcome.NOT_PROCESSED:
        part.plan_resend(at=now + _backoff(RESEND_BACKOFF, part.attempts - 1))
    elif outcome == outcomes.Outcome.UNKNOWN:
        part.lose_track(check_at=now + _backoff(PENDING_POLL, 0))
    else:
        _fail(part, f"{result.response_code} {result.message}", now)
    return True


class _Effects:
    """What a batch of answers changes beyond each part's own row, applied together at the end of
    the batch's transaction: the parts' rows, the payouts every part of which has now succeeded,
    their transactions (disbursed), and the notifications of the successes."""

    def __init__(self, now: dt.datetime):
        self.now = now
        self.changed: list[Disbursement] = []
        self.succeeded: list[Disbursement] = []

    def flush(self) -> None:
        if self.changed:
            Disbursement.objects.bulk_update(self.changed, _ANSWER_FIELDS)
        if not self.succeeded:
            return
        payouts = {part.payout_id: part.payout for part in self.succeeded}
        open_payouts, retried = set(), set()
        failed: dict[int, set[int]] = {}
        for pk, payout_id, status, retry_of_id in (Disbursement.objects.filter(payout_id__in=list(payouts))
                                                   .values_list("pk", "payout_id", "status", "retry_of_id")):
            if retry_of_id:
                retried.add(retry_of_id)
            if status in (Disbursement.Status.FAILED, Disbursement.Status.REVERSED):
                failed.setdefault(payout_id, set()).add(pk)
            elif status != Disbursement.Status.SUCCEEDED and status not in FINAL:
                open_payouts.add(payout_id)
        completed, disbursed = [], []
        for payout_id, payout in payouts.items():
            if payout_id in open_payouts or failed.get(payout_id, set()) - retried:
                continue  # a part is still on its way, or failed without its retry
            if payout.status == Payout.Status.COMPLETED:
                continue
            payout.complete(at=self.now)
            completed.append(payout)
            txn = payout.escrow_transaction
            if payout.purpose == Payout.Purpose.SELLER_PAYOUT and txn.status == TxnStatus.CONFIRMED:
                disbursed.append(txn)
        if completed:
            Payout.objects.bulk_update(completed, ["status", "completed_at"])
        transaction_services.transactions_mark_disbursed(escrow_transactions=disbursed, only_settled=True)
        notices = []
        for part in self.succeeded:
            payout = part.payout
            txn = payout.escrow_transaction
            notices.append(dict(
                event_key=f"disbursement:{part.pk}:succeeded",
                kind="payout_sent" if payout.purpose == Payout.Purpose.SELLER_PAYOUT else "refund_sent",
                recipient=payout.recipient, link=txn.get_absolute_url(),
                context={"reference": txn.reference, "title": txn.title, "seller": txn.seller.full_name,
                         "amount": format_rupiah(part.amount),
                         "destination": part.destination.label if part.destination else ""}))
        notify_many(notices)


LISTED_LATEST_STATUSES = {outcomes.SUCCESS, *outcomes.IN_PROCESS, outcomes.REVERSED, *outcomes.FAILED,
                          outcomes.NOT_FOUND}


def _unlisted(result: TransferAnswer, outcome) -> bool:
    """A response code, or an accepted answer's ``latestTransactionStatus``, that Faspay's list
    does not have: what it means is for Faspay's technical team to say, not for us to guess."""
    if not rules.is_listed_response(result.response_code):
        return True
    return (outcome == outcomes.Outcome.ACCEPTED and bool(result.latest_status)
            and result.latest_status not in LISTED_LATEST_STATUSES)


def _hold_unlisted(part: Disbursement, result: TransferAnswer) -> None:
    """Terms A: flag the unlisted answer with its raw code, hold the money (no failure, no resend,
    the quota stays taken: the transfer may have gone), and alert Finance to contact Faspay."""
    code = result.response_code if not rules.is_listed_response(result.response_code) \
        else f"{result.response_code}/{result.latest_status}"
    part.hold_unlisted(code=code, message=result.message)
    payout = part.payout
    _payout_needs_action(payout, timezone.now())
    txn = payout.escrow_transaction
    audit_record(actor=None, action="disbursement.held_unlisted", target=part,
                 reason=part.failure_reason, data={"reference": txn.reference, "code": code,
                                                   "message": result.message[:255], "body": result.raw})
    subject = f"SendMe: unlisted response {code} for {part.partner_reference_no} — contact Faspay's technical team"
    body = (f"Transaction {txn.reference}, part {part.sequence} ({part.partner_reference_no}), "
            f"{format_rupiah(part.amount)}.\nRaw response code: {code}\nMessage: {result.message}\n"
            f"Body: {result.raw}\n\nThe part is held: no resend, no failure. After Faspay's technical team "
            f"(through Customer Service) clarifies, release the hold in the admin; a status inquiry "
            f"under the same reference then decides.")
    transaction.on_commit(lambda: mail_group(FINANCE, subject, body))


def disbursement_release_hold(*, disbursement: Disbursement, actor, reason: str) -> Disbursement:
    """Faspay's technical team answered about a held part: a status inquiry under the same
    reference decides what happened (never a send under a new one)."""
    if not (reason or "").strip():
        raise DisbursementError(_("Please give a reason."), code="reason_required")
    with transaction.atomic():
        payout = locks.lock(Payout, disbursement.payout_id)
        part = locks.lock(Disbursement, disbursement.pk)
        if part.status != Disbursement.Status.HELD:
            raise DisbursementError(_("Only a held transfer can be released."), code="not_held")
        part.release_hold(check_at=timezone.now())
        part.save(update_fields=["status", "next_attempt_at"])
        if not _needs_a_person(payout):
            payout.start_paying()
            payout.save(update_fields=["status"])
        audit_record(actor=actor, action="disbursement.release_hold", target=part, reason=reason.strip(),
                     data={"code": part.last_response_code})
    from .tasks import inquire_disbursement

    inquire_disbursement.delay_on_commit(part.pk)
    return part


def _apply_latest_status(part: Disbursement, status: str, now: dt.datetime, effects: "_Effects") -> None:
    part.latest_transaction_status = status
    if status == outcomes.SUCCESS:
        _succeed(part, now, effects)
    elif status in outcomes.FAILED:
        _fail(part, _("SendMe reports the transfer failed (%(status)s).") % {"status": status}, now)
    elif status == outcomes.REVERSED:
        _reverse(part, now)
    else:
        part.mark_pending(check_at=now + _backoff(PENDING_POLL, part.status_checks))


def _ledger_category(part) -> str:
    return PAYABLE[part.payout.purpose]


def _succeed(part: Disbursement, now: dt.datetime, effects: "_Effects") -> None:
    """The money left: posted now (same transaction as the part's change); the payout's completion,
    the transaction's closing and the notification follow with the batch (``_Effects.flush``)."""
    if part.status == Disbursement.Status.SUCCEEDED:
        return
    part.succeed(at=now)
    payout = part.payout
    txn = payout.escrow_transaction
    entry_post(
        idempotency_key=f"disbursement:{part.pk}:sent", kind=DONE_KIND[payout.purpose],
        memo=f"{txn.reference} {part.partner_reference_no} {part.provider_reference_no}", escrow_transaction=txn,
        lines=[debit(_ledger_category(part), part.amount), credit(AccountCategory.SENDME_DEPOSIT, part.amount)],
    )
    effects.succeeded.append(part)


def _fail(part: Disbursement, reason: str, now: dt.datetime) -> None:
    """Final failure: the quota goes back, the money stays payable, a person decides."""
    part.fail(reason=reason, at=now)
    if part.quota_day:
        quota.release(part.quota_day, part.amount)
        part.quota_day = None  # released once: a later answer cannot give the quota back twice
    payout = part.payout
    _payout_needs_action(payout, now)
    if part.destination and part.last_response_code[:3] == "404" and part.last_response_code[-2:] == "11":
        # Saved, not a queryset update: the account's listeners (the public refund-by date of its
        # owner's refunds, ``pages.public_cache``) hear of it.
        part.destination.verification = PayoutDestination.Verification.INVALID
        part.destination.save(update_fields=["verification"])
    txn = payout.escrow_transaction
    audit_record(actor=None, action="disbursement.failed", target=part, reason=reason,
                 data={"reference": txn.reference, "code": part.last_response_code})
    _tell_transfer_failed(part, event="failed", reason=reason)


def _payout_needs_action(payout: Payout, at: dt.datetime) -> None:
    """A part failed for good, was reversed or is held: the payout waits for a person from ``at``."""
    payout.need_action(at=at)
    payout.save(update_fields=["status", "needs_action_since"])


def _tell_transfer_failed(part: Disbursement, *, event: str, reason: str) -> None:
    """Email the recipient that this transfer did not reach them and the money is safe (``payout_failed``)."""
    payout = part.payout
    txn = payout.escrow_transaction
    notify(event_key=f"disbursement:{part.pk}:{event}", kind="payout_failed", recipient=payout.recipient,
           context={"reference": txn.reference, "title": txn.title, "seller": txn.seller.full_name,
                    "amount": format_rupiah(part.amount), "reason": reason},
           link="/akun/profil/")


def _reverse(part: Disbursement, now: dt.datetime) -> None:
    """A transfer that succeeded was reversed (04): the money is owed again; staff are alerted. A seller's
    transaction already marked paid out waits for its payout again."""
    if part.status == Disbursement.Status.REVERSED:
        return
    was_succeeded = part.status == Disbursement.Status.SUCCEEDED
    part.reverse(latest_status=outcomes.REVERSED)
    payout = part.payout
    txn = payout.escrow_transaction
    if was_succeeded:
        entry_post(
            idempotency_key=f"disbursement:{part.pk}:reversed", kind=EntryKind.PAYOUT_REVERSED,
            memo=f"{txn.reference} {part.partner_reference_no} reversed", escrow_transaction=txn,
            lines=[debit(AccountCategory.SENDME_DEPOSIT, part.amount), credit(_ledger_category(part), part.amount)],
        )
    _payout_needs_action(payout, now)
    audit_record(actor=None, action="disbursement.reversed", target=part,
                 reason="SendMe latestTransactionStatus 04", data={"reference": txn.reference})
    if payout.purpose == Payout.Purpose.SELLER_PAYOUT and was_succeeded:
        # Paid out, then given back: the transaction waits for its payout again, and the seller is told.
        # (A refund given back reopens its request: ``refunds.services.refund_reopen``, which tells the buyer.)
        transaction_services.transaction_payout_given_back(escrow_transaction=txn)
        _tell_transfer_failed(part, event="given_back", reason=_("the bank returned the transfer"))


# --- resolving ------------------------------------------------------------------------------

def disbursement_resolve(*, disbursement_id: int, client=None) -> str:
    """Move a part whose outcome is open: resend (same reference) or ask SendMe's status."""
    now = timezone.now()
    client = client or default_client()
    with transaction.atomic():
        part = locks.lock(Disbursement, disbursement_id, skip_locked=True, annotate=_of_unbooked_reversal())
        if part is None or part.next_attempt_at is None or part.next_attempt_at > now:
            return part.status if part else ""
        if part.status == Disbursement.Status.RETRYING:
            if not _resend_allowed(part, now):
                part.save(update_fields=["next_attempt_at", "waiting_for"])
                return part.status
            action = "resend"
            part.resend(quota_day=wib_date(now), lease_until=now + _lease())
        elif part.status in (Disbursement.Status.UNKNOWN, Disbursement.Status.PENDING, Disbursement.Status.SENDING):
            action = "inquire"  # a SENDING part past its lease: its worker died mid-call
            part.next_attempt_at = now + _lease()
        else:
            return part.status
        part.save(update_fields=["status", "attempts", "next_attempt_at", "quota_day", "waiting_for"])
    if action == "resend":
        return _send_and_record(part, client)
    return disbursement_inquire(disbursement_id=part.pk, client=client)


def _resend_allowed(part: Disbursement, now: dt.datetime) -> bool:
    """A resend is a send: it obeys the night window, and its amount counts on the quota of the
    WIB day it goes out. A part first sent yesterday moves its reservation to today (SendMe did not
    process it yesterday, so yesterday's quota gives it back); if today cannot carry it, it waits
    for the next day. Nor does it go out while its transaction has a payment Faspay reversed and staff
    have not booked (``_of_unbooked_reversal``, read by the part's lock). ``False`` (with the part's next
    look set) when it must wait."""
    if part.__dict__["of_unbooked_reversal"]:  # set by every lock that leads here (a KeyError if one forgets)
        logger.warning("payout part %s not resent: the buyer's payment was reversed by the provider", part.pk)
        part.next_attempt_at, part.waiting_for = now + REVERSED_PAYMENT_RECHECK, Disbursement.Wait.REVERSED_PAYMENT
        return False
    hold = rules.night_hold_until(now, part.kind)
    if hold is not None:
        part.next_attempt_at, part.waiting_for = hold, Disbursement.Wait.NIGHT
        return False
    today = wib_date(now)
    if part.quota_day == today:
        return True
    if not quota.reserve(today, part.amount):
        part.next_attempt_at = rules.start_of_next_wib_day(now)
        part.waiting_for = Disbursement.Wait.DAILY_LIMIT
        return False
    if part.quota_day:
        quota.release(part.quota_day, part.amount)
    return True


def disbursement_inquire(*, disbursement_id: int, client=None) -> str:
    part = Disbursement.objects.get(pk=disbursement_id)
    if part.status in (Disbursement.Status.QUEUED, Disbursement.Status.HELD, *FINAL):
        return part.status  # never sent, held for Faspay's answer, or settled for good: nothing to ask
    answer = _inquiry_answer(client or default_client(), part)
    if answer is None:
        return part.status
    return _record(part.pk, answer.result, inquiry=True)


def _inquiry_answer(client, part: Disbursement) -> _Answer | None:
    """Ask SendMe for ``part``'s status (no transaction open). ``None`` when the answer decides
    nothing (SendMe unavailable, or a listed refusal of the inquiry itself): the next look is then
    scheduled here."""
    try:
        result = client.transfer_status(partner_reference_no=part.partner_reference_no,
                                        reference_no=part.provider_reference_no,
                                        topup=part.kind == Disbursement.Kind.EWALLET)
    except FaspayUnavailable as exc:
        Disbursement.objects.filter(pk=part.pk).update(next_attempt_at=timezone.now() + _backoff(PENDING_POLL, 1),
                                                       last_response_message=str(exc)[:255])
        return None
    if (outcomes.classify(result) != outcomes.Outcome.ACCEPTED and not outcomes.is_not_found(result)
            and rules.is_listed_response(result.response_code)):
        Disbursement.objects.filter(pk=part.pk).update(next_attempt_at=timezone.now() + _backoff(PENDING_POLL, 1),
                                                       last_response_code=result.response_code)
        return None
    return _Answer(part.pk, result, inquiry=True)


def disbursements_resolve_due(*, ids: list[int], client=None) -> int:
    """``disbursement_resolve`` for the parts ``ids``, a chunk at a time: claim the chunk in one
    transaction (resends reserve their quota there, part by part), then resend or inquire each with
    no lock held, then apply the answers in one transaction. Returns how many were looked at."""
    client = client or default_client()
    for chunk in _chunks(ids):
        resends, inquiries = _claim_for_resolve(chunk, timezone.now())
        answers = [_send_answer(client, part) for part in resends]
        for part in inquiries:
            answer = _inquiry_answer(client, part)
            if answer is not None:
                answers.append(answer)
        _record_batch(answers, _owners(resends + inquiries))
    return len(ids)


def _claim_for_resolve(ids: list[int], now: dt.datetime) -> tuple[list[Disbursement], list[Disbursement]]:
    """Lock the due parts of ``ids`` (skipping those another worker holds) and decide for each, as
    ``disbursement_resolve`` does: resend (same reference, quota of today) or inquire."""
    resends: list[Disbursement] = []
    inquiries: list[Disbursement] = []
    waiting: list[Disbursement] = []
    with transaction.atomic():
        locked = {part.pk: part for part in locks.lock_all(
            Disbursement.objects.filter(pk__in=ids).select_related("payout__recipient")
            .annotate(**_of_unbooked_reversal()), skip_locked=True)}
        for pk in ids:
            part = locked.get(pk)
            if part is None or part.next_attempt_at is None or part.next_attempt_at > now:
                continue
            if part.status == Disbursement.Status.RETRYING:
                if not _resend_allowed(part, now):
                    waiting.append(part)
                    continue
                part.resend(quota_day=wib_date(now), lease_until=_send_lease(now, len(resends)))
                resends.append(part)
            elif part.status in (Disbursement.Status.UNKNOWN, Disbursement.Status.PENDING, Disbursement.Status.SENDING):
                part.next_attempt_at = now + _lease()  # a SENDING part past its lease: its worker died mid-call
                inquiries.append(part)
        if waiting:
            Disbursement.objects.bulk_update(waiting, ["next_attempt_at", "waiting_for"])
        if resends or inquiries:
            Disbursement.objects.bulk_update(resends + inquiries,
                                             ["status", "attempts", "next_attempt_at", "quota_day", "waiting_for"])
    return resends, inquiries


def _needs_a_person(payout: Payout) -> bool:
    """A part is held, or failed/reversed without a retry."""
    return (payout.parts.filter(status=Disbursement.Status.HELD).exists()
            or payout.parts.filter(status__in=[Disbursement.Status.FAILED, Disbursement.Status.REVERSED],
                                   retried_by__isnull=True).exists())


def _check_retry_target(failed: Disbursement) -> None:
    if failed.status not in (Disbursement.Status.FAILED, Disbursement.Status.REVERSED):
        raise DisbursementError(_("Only a failed or reversed transfer can be retried."), code="not_failed")
    if hasattr(failed, "retried_by"):
        raise DisbursementError(_("This transfer was already retried."), code="already_retried")


def _check_retry_destination(failed: Disbursement, destination: PayoutDestination | None) -> None:
    if destination is None or not destination.can_receive_payouts or destination.owner_id != failed.payout.recipient_id:
        raise DisbursementError(_("Choose a verified account of the recipient."), code="destination")


def disbursement_retry(*, disbursement: Disbursement, actor, destination: PayoutDestination | None = None) -> list:
    """After a final failure a PERSON retries — under the SAME partner reference (terms A: a retry
    after a Failed result uses the same Transaction ID; another ID is a new transaction at
    INTRASA's own risk). The part goes back to the queue as it was: same reference, destination
    and request body, its amount reserved again on the quota of the day it goes.

    A new reference is unavoidable only for another destination, and for a reversed transfer (the
    reference already succeeded once at SendMe): that path is ``disbursement_retry_request`` and a
    second person's ``disbursement_retry_approve``."""
    with transaction.atomic():
        payout = locks.lock(Payout, disbursement.payout_id, related=("escrow_transaction",))
        failed = locks.lock(Disbursement, disbursement.pk)
        failed.payout = payout
        _check_retry_target(failed)
        if destination is not None and destination.pk != failed.destination_id:
            raise DisbursementError(_("Paying another account needs a new reference: request it with a reason, "
                                      "and a second person approves it."), code="approval_required")
        if failed.status == Disbursement.Status.REVERSED:
            raise DisbursementError(_("A reversed transfer is retried under a new reference: request it with a "
                                      "reason, and a second person approves it."), code="approval_required")
        destination = failed.destination
        if destination is not None:
            destination = locks.lock(PayoutDestination, destination.pk)
        _check_retry_destination(failed, destination)
        failed.requeue_same_reference()
        failed.save()
        changed = _set_off(payout, timezone.now())  # sent again: a refund's transfer window starts again
        if not _needs_a_person(payout):
            payout.start_paying()
        payout.save(update_fields=["status", *changed])
        audit_record(actor=actor, action="disbursement.retry", target=failed,
                     data={"reference": failed.partner_reference_no, "same_reference": True,
                           "previous_code": failed.last_response_code})
    from .tasks import dispatch_disbursement

    dispatch_disbursement.delay_on_commit(failed.pk)
    return [failed]


def disbursement_retry_request(*, disbursement: Disbursement, actor, destination: PayoutDestination,
                               reason: str) -> RetryApproval:
    """Ask for a retry under a NEW reference (another destination, or a reversed transfer): it
    waits for a second person (``disbursement_retry_approve``)."""
    reason = (reason or "").strip()
    if not reason:
        raise DisbursementError(_("Please give a reason."), code="reason_required")
    with transaction.atomic():
        payout = locks.lock(Payout, disbursement.payout_id)
        failed = locks.lock(Disbursement, disbursement.pk)
        failed.payout = payout
        _check_retry_target(failed)
        if failed.status == Disbursement.Status.FAILED and destination.pk == failed.destination_id:
            raise DisbursementError(_("The same account is retried under the same reference; no approval is "
                                      "needed."), code="same_destination")
        destination = locks.lock(PayoutDestination, destination.pk)
        _check_retry_destination(failed, destination)
        if failed.retry_approvals.filter(status=RetryApproval.Status.REQUESTED).exists():
            raise DisbursementError(_("A retry of this transfer is already waiting for approval."),
                                    code="already_requested")
        approval = RetryApproval.objects.create(failed=failed, destination=destination, reason=reason[:255],
                                                requested_by=actor)
        audit_record(actor=actor, action="disbursement.retry_request", target=failed, reason=reason,
                     data={"destination": destination.pk, "approval": approval.pk})
        return approval


def disbursement_retry_approve(*, approval: RetryApproval, actor, note: str = "") -> list[Disbursement]:
    """A second person approves a retry under a new reference: the new part is created and sent."""
    with transaction.atomic():
        failed_id, payout_id = (Disbursement.objects.filter(pk=approval.failed_id)
                                .values_list("pk", "payout_id").get())
        payout = locks.lock(Payout, payout_id, related=("escrow_transaction",))
        failed = locks.lock(Disbursement, failed_id)
        failed.payout = payout
        destination = locks.lock(PayoutDestination, approval.destination_id)
        approval = locks.lock(RetryApproval, approval.pk)
        if approval.status != RetryApproval.Status.REQUESTED:
            raise DisbursementError(_("This request was already decided."), code="decided")
        if approval.requested_by_id == actor.pk:
            raise DisbursementError(_("A second person must approve a retry under a new reference."),
                                    code="same_person")
        _check_retry_target(failed)
        _check_retry_destination(failed, destination)
        approval.approve(by=actor, at=timezone.now(), note=note)
        approval.save()
        audit_record(actor=actor, action="disbursement.retry_approve", target=failed, reason=approval.reason,
                     data={"destination": destination.pk, "approval": approval.pk,
                           "requested_by": approval.requested_by_id})
        return _create_parts(payout, destination, actor=actor, amount=failed.amount, retry_of=failed)


def disbursement_retry_reject(*, approval: RetryApproval, actor, note: str) -> RetryApproval:
    if not (note or "").strip():
        raise DisbursementError(_("Please give a reason."), code="reason_required")
    with transaction.atomic():
        approval = locks.lock(RetryApproval, approval.pk)
        if approval.status != RetryApproval.Status.REQUESTED:
            raise DisbursementError(_("This request was already decided."), code="decided")
        approval.reject(by=actor, at=timezone.now(), note=note.strip())
        approval.save()
        audit_record(actor=actor, action="disbursement.retry_reject", target=approval, reason=note.strip())
        return approval


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
    except FaspayUnavailable:
        return destination.verification  # try again later; nothing learned
    with transaction.atomic():
        # Payouts before their destination (``intrasa.locks``): the waiting ones get the account
        # in the same commit that verifies it.
        waiting = locks.lock_all(Payout.objects.filter(recipient_id=destination.owner_id,
                                                       status=Payout.Status.AWAITING_DESTINATION))
        destination = locks.lock(PayoutDestination, destination_id, related=("owner",))
        if result.successful:
            name = result.account_name[:100]
            destination.verified_name = name
            destination.verified_at = timezone.now()
            destination.verification = (
                PayoutDestination.Verification.VERIFIED
                if rules.names_match(destination.owner.full_name, name) and rules.names_match(destination.account_holder_name, name)
                else PayoutDestination.Verification.NAME_MISMATCH)
        elif result.account_invalid:
            destination.verification = PayoutDestination.Verification.INVALID
        else:
            return destination.verification
        destination.save(update_fields=["verified_name", "verified_at", "verification"])
        audit_record(actor=None, action="payout_destination.inquiry", target=destination,
                     data={"result": destination.verification, "code": result.response_code})
        if destination.is_default and not destination.can_receive_payouts:
            _hand_over_default(destination)
        if destination.can_receive_payouts:
            for payout in waiting:
                payout_use_destination(payout=payout, destination=destination, actor=None)
        return destination.verification


def _hand_over_default(destination) -> None:
    """A failed check never leaves the account as the default: the newest account of the owner that
    can receive payouts takes over, or none (payouts then wait for a verified account, and the
    account becomes the default again if staff approve its name)."""
    destination.is_default = False
    destination.save(update_fields=["is_default"])
    others = (PayoutDestination.objects.filter(owner_id=destination.owner_id, is_archived=False)
              .exclude(pk=destination.pk).order_by("-created_at"))
    successor = next((other for other in others if other.can_receive_payouts), None)
    if successor is not None:
        successor.is_default = True
        successor.save(update_fields=["is_default"])
    audit_record(actor=None, action="payout_destination.default_handed_over", target=destination,
                 data={"successor": successor.pk if successor else None})


def daily_limit_change(*, limit: int, effective_from: dt.date, actor, reason: str) -> DailyLimitChange:
    """Record a new Daily Nominal Total agreed with Faspay (terms A), and apply it to quota rows."""
    smallest = rules.smallest_daily_limit()
    if not check_rupiah_range(limit, minimum=smallest, maximum=RUPIAH_CEILING):
        # Below two minimum parts a split payout's parts could never fit a day: they would wait for ever.
        raise DisbursementError(_("The daily limit must be between %(min)s and %(max)s.")
                                % {"min": format_rupiah(smallest), "max": format_rupiah(RUPIAH_CEILING)},
                                code="invalid_limit")
    if not reason.strip():
        raise DisbursementError(_("Please give a reason."), code="reason_required")
    with transaction.atomic():
        change = DailyLimitChange.objects.create(effective_from=effective_from, limit=limit, changed_by=actor,
                                                 reason=reason.strip()[:255])
        quota.apply_limit_change(effective_from=effective_from, limit=limit)
        now = timezone.now()
        woken = 0
        if effective_from <= wib_date(now):
            # A limit raised today (Faspay accepted the morning forecast's request) is used today:
            # the parts pushed off to tomorrow for the limit are looked at again now, in queue order.
            woken = Disbursement.objects.filter(status=Disbursement.Status.QUEUED,
                                                waiting_for=Disbursement.Wait.DAILY_LIMIT,
                                                not_before__gt=now).update(not_before=now)
            woken += Disbursement.objects.filter(status=Disbursement.Status.RETRYING,
                                                 waiting_for=Disbursement.Wait.DAILY_LIMIT,
                                                 next_attempt_at__gt=now).update(next_attempt_at=now)
        audit_record(actor=actor, action="sendme.daily_limit_change", target=change, reason=reason,
                     data={"limit": limit, "effective_from": effective_from.isoformat(), "parts_looked_at_again": woken})
        return change


def payout_forecast_alert(*, now: dt.datetime | None = None) -> int:
    """The morning forecast (FAQ 1×24 promise as an operated target): tell Finance which payouts
    today's Daily Nominal Total cannot carry and which will miss their promise, with how much more
    limit today would need — early enough to ask Faspay for a higher limit (terms A: by written
    request) or to pay by another route. Returns the number of payouts in the alert (0: no mail)."""
    now = now or timezone.now()
    forecast = selectors.promise_forecast(now=now)
    if not forecast.needs_attention:
        return 0
    payouts = {p.pk: p for p in Payout.objects.filter(
        pk__in={o.payout_id for o in forecast.not_carried + forecast.late}).select_related("escrow_transaction")}

    def line(outlook) -> str:
        payout = payouts[outlook.payout_id]
        return (f"- {payout.escrow_transaction.reference} {payout.get_purpose_display()} {format_rupiah(payout.amount)}"
                f" — promised {format_wib(outlook.due_at) if outlook.due_at else '-'}"
                f", expected {format_wib(outlook.expected_at) if outlook.expected_at else 'unknown (' + outlook.reason + ')'}")

    lines = [f"Daily Nominal Total {forecast.day}: {format_rupiah(forecast.limit)}, used {format_rupiah(forecast.used)}.",
             f"Due to go out today: {format_rupiah(forecast.demand)}; today's limit carries {format_rupiah(forecast.carried)}.",
             ""]
    if forecast.shortfall:
        lines.append(f"To pay everything due today, ask Faspay to raise today's Daily Nominal Total by at least "
                     f"{format_rupiah(forecast.shortfall)} (to {format_rupiah(forecast.limit + forecast.shortfall)}), "
                     f"or pay these by another route.")
    if forecast.not_carried:
        lines += ["", "Not carried by today's limit:"] + [line(o) for o in forecast.not_carried]
    if forecast.late:
        lines += ["", "Expected after their 1×24 promise:"] + [line(o) for o in forecast.late]
    count = len({o.payout_id for o in forecast.not_carried + forecast.late})
    mail_group(FINANCE, f"Payout forecast {forecast.day}: {count} payout(s) at risk", "\n".join(lines))
    return count


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
