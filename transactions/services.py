"""Every change to an escrow transaction goes through a function in this module.

Each service opens ``transaction.atomic()``, locks the row (``intrasa.locks``), runs the django-fsm
transition declared on the model, posts the ledger entry, appends the timeline event (who, when,
from, to, why) and schedules side effects with ``transaction.on_commit`` — all or nothing. A
refused action raises ``TransactionActionError`` with a message for the person and changes nothing.

The services that move escrow money onward — ``transaction_confirm``, ``transaction_auto_confirm``,
``transaction_resolve_release``, ``transaction_resolve_split`` and ``transaction_refund`` — are
*steps* of flows that continue in other apps (plan the seller's payout, open the buyer's refund
request). They are called only by the flows that take those next steps by name: ``escrow.services``
(the buyer's confirmation, auto-confirmation, the seller's cancellation after payment) and
``disputes.services`` (dispute resolution). ``tests/test_architecture.py`` keeps it so, and
``ledger_check`` proves no owed Rupiah is left without its payout or refund request.
"""
import copy
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet, Subquery
from django.db.models.functions import JSONObject
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed, has_transition_perm

from accounts.models import User
from accounts.validators import canonical_email, mask_email
from audit.services import audit_record
from intrasa import locks
from intrasa.errors import ServiceError
from intrasa.money import BIGINT_MAX, check_rupiah_range, format_rupiah
from intrasa.wib import format_wib, now_wib
from ledger.models import AccountCategory, EntryKind
from ledger.selectors import (
    transaction_balances,
    transaction_discount_taken_back,
    transaction_fee_booked,
    transactions_seller_payable,
)
from ledger.services import credit, debit, entry_post
from notifications.services import notify, notify_many
from workdays.calendar import working_calendar

from . import delivery, tracking
from .delivery import DeliverySource
from .fees import TIER_FIELDS, FeeQuote, FeeScheduleError, fee_quote
from .models import Category, EscrowTransaction, FeeTier, Status, TransactionEvent
from .references import generate_reference
from .selectors import escrow_hold_other_than, refundable_in_full
from .writes import Update, write_together

Role = TransactionEvent.Role


@dataclass(frozen=True)
class SplitAmounts:
    buyer: int
    seller: int
    fee: int


class TransactionActionError(ServiceError):
    """An action that was refused; the message is meant for the person who tried it."""


# --- helpers --------------------------------------------------------------------------------

def _lock(escrow_transaction: EscrowTransaction | int) -> EscrowTransaction:
    return locks.lock_transaction(escrow_transaction)


def _step_atomic(escrow_transaction):
    """The atomic block of a step that flows call with the transaction they locked (``escrow``'s
    release): no savepoint of its own when it is handed that very object, since the flow's block
    then fails with it and rolls it all back (no flow catches a step's refusal to go on); called
    on its own, it is a service with its own block as always."""
    handed = isinstance(escrow_transaction, EscrowTransaction) and locks.is_locked_instance(escrow_transaction)
    return transaction.atomic(savepoint=not handed)


def transaction_record_event(escrow_transaction, *, action: str, actor, role: str, reason: str = "",
                             from_status: str = "", to_status: str = "", data: dict | None = None) -> TransactionEvent:
    """Append one event to the transaction's timeline (call inside the caller's atomic block,
    with the transaction locked); other apps record their notable actions here too."""
    return TransactionEvent.objects.create(
        escrow_transaction=escrow_transaction, action=action, actor=actor, actor_role=role, reason=reason,
        from_status=from_status, to_status=to_status, data=data or {},
    )



@dataclass(frozen=True)
class Refusal:
    """Refuse the step, after its write, when ``rows`` (a query counted by that write, after the
    transaction's lock) has any row: ``error`` is raised and the step's block rolls it all back."""

    rows: QuerySet
    error: ServiceError


def _transition(txn, name: str, *, actor, role: str, reason: str = "", data=None, check_permission=True,
                action: str | None = None, setting: dict | None = None, notices=None,
                refusals: Sequence[Refusal] = ()):
    """Run transition ``name`` on the locked ``txn``, save it and record the timeline event
    (under ``action`` when the same transition means something more specific, e.g. a split).
    ``setting``: fields the step sets with the transition (its timestamps), set once the transition
    is allowed and saved with it in the same UPDATE. ``notices``: a function giving the
    notifications of the transition (``_party_notice``), called once the transition and
    ``setting`` are applied; the row, its event and those notifications are written in one
    statement (``transactions.writes``), which also counts the ``refusals``' rows."""
    method = getattr(txn, name)
    if not can_proceed(method):
        raise TransactionActionError(
            _("This action is not possible while the transaction is “%(status)s”.")
            % {"status": txn.get_status_display()},
            code="illegal_transition",
        )
    if check_permission and not has_transition_perm(method, actor):
        raise TransactionActionError(_("You are not allowed to do this on this transaction."),
                                     code="forbidden")
    from_status = txn.status
    method()
    for field, value in (setting or {}).items():
        setattr(txn, field, value)
    event = TransactionEvent(escrow_transaction=txn, action=action or name, actor=actor, actor_role=role,
                             reason=reason, from_status=from_status, to_status=txn.status, data=data or {})
    counted = write_together(updates=[Update(txn, expected={"status": from_status})], inserts=[event],
                             notices=[notice for notice in (notices() if notices else []) if notice is not None],
                             counts={str(n): refusal.rows for n, refusal in enumerate(refusals)})
    for n, refusal in enumerate(refusals):
        if counted[str(n)]:
            raise refusal.error
    return event


def _context(txn, **extra) -> dict:
    return {"reference": txn.reference, "title": txn.title, "amount": format_rupiah(txn.amount_due),
            "seller": txn.seller.full_name, **extra}


def _party_notice(txn, user, kind: str, suffix: str = "", **extra) -> dict | None:
    """The notification of ``kind`` to one party (``notify``'s keyword arguments), or ``None``
    without that party."""
    if user is None:
        return None
    return {"event_key": f"txn:{txn.reference}:{kind}{suffix}:{user.pk}", "kind": kind, "recipient": user,
            "context": _context(txn, **extra), "link": txn.get_absolute_url()}


def _notify_party(txn, user, kind: str, suffix: str = "", **extra) -> None:
    notice = _party_notice(txn, user, kind, suffix, **extra)
    if notice is not None:
        notify(**notice)


def _notify_parties(txn, notices: list[tuple]) -> None:
    """``_notify_party`` for both parties of one transition, ``(user, kind, extra)`` each: one
    INSERT for all of them."""
    notify_many([{"event_key": f"txn:{txn.reference}:{kind}:{user.pk}", "kind": kind, "recipient": user,
                  "context": _context(txn, **extra), "link": txn.get_absolute_url()}
                 for user, kind, extra in notices if user is not None], one_event=True)


def _fresh(user, locked_txn=None):
    """The user's row as committed (an email verified in another tab counts; a stale object
    handed in by a caller does not decide who may answer an invitation). From ``locked_txn``
    when its lock read the fields that decide it (``_with_committed_user``), as committed when
    the lock was asked for; otherwise read here."""
    if locked_txn is not None and hasattr(locked_txn, "acting_user_email_verified_at"):
        fresh = copy.copy(user)  # the caller's object is left as it was handed in
        fresh.email = locked_txn.acting_user_email
        fresh.email_verified_at = locked_txn.acting_user_email_verified_at
        return fresh
    return User.objects.get(pk=user.pk)


def _with_committed_user(user) -> dict:
    """What ``invitation_refusal`` needs of ``user`` as committed, read by the transaction's lock
    statement itself (``locks.lock_transaction``'s ``annotate``): no statement of its own."""
    committed = User.objects.filter(pk=user.pk)
    return {"acting_user_email": Subquery(committed.values("email")[:1]),
            "acting_user_email_verified_at": Subquery(committed.values("email_verified_at")[:1])}


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise TransactionActionError(_("Please give a reason."), code="reason_required")
    return reason


# --- creation and invitation ----------------------------------------------------------------

def transaction_create(
    *, seller, title: str, description: str, category: str, price: int, shipping_cost: int,
    fee_payer: str, inspection_days: int, shipping_days: int, buyer_email: str = "",
    buyer_phone: str = "", accepts_returns: bool = False, restocking_fee_basis_points: int = 0,
    is_licence_or_voucher: bool = False, send_invitation: bool = True, quote: FeeQuote | None = None,
    started_by_buyer: bool = False,
) -> EscrowTransaction:
    """The seller creates a transaction and invites the buyer (FAQ step 1).

    Two callers create a transaction for a buyer who is already there and accepts at once, in the
    same database transaction: a payment link (``paylinks``) and a milestone plan (``milestones``).
    They pass ``send_invitation=False`` (no invitation email to the person who is acting) and the
    plan passes ``quote``, the milestone's share of the fee computed once on the plan's whole value
    (``milestones.fees``), instead of a fee of its own.

    ``started_by_buyer``: the buyer, not the seller, started it — only a payment link, where the
    buyer presses "Buy" on the seller's standing offer. It is no invitation, so the seller's daily
    limit of invitations neither refuses nor counts it (``_refuse_unless_seller_may_invite``); every
    other check here applies. A milestone plan is the seller's proposal to a buyer they named: it
    counts, as the website's form and the partner API do."""
    if not check_rupiah_range(price, minimum=settings.INTRASA_MIN_TRANSACTION_AMOUNT,
                              maximum=settings.INTRASA_MAX_TRANSACTION_AMOUNT):
        raise TransactionActionError(
            _("The price must be between %(min)s and %(max)s.") % {
                "min": format_rupiah(settings.INTRASA_MIN_TRANSACTION_AMOUNT),
                "max": format_rupiah(settings.INTRASA_MAX_TRANSACTION_AMOUNT)},
            code="amount_out_of_range",
        )
    if not check_rupiah_range(shipping_cost, minimum=0, maximum=BIGINT_MAX):
        raise TransactionActionError(_("The shipping cost cannot be negative."), code="invalid_shipping")
    if price + shipping_cost > settings.INTRASA_MAX_TRANSACTION_AMOUNT:
        raise TransactionActionError(
            _("Price and shipping cost together can be at most %(max)s.")
            % {"max": format_rupiah(settings.INTRASA_MAX_TRANSACTION_AMOUNT)}, code="invalid_shipping")
    if category != Category.PHYSICAL and shipping_cost:
        raise TransactionActionError(_("Only physical goods have a shipping cost."), code="invalid_shipping")
    if not 1 <= inspection_days <= settings.INTRASA_INSPECTION_DAYS_MAX:
        raise TransactionActionError(
            _("The inspection period must be between 1 and %(max)d working days.")
            % {"max": settings.INTRASA_INSPECTION_DAYS_MAX}, code="invalid_inspection")
    if not 1 <= shipping_days <= 30:
        raise TransactionActionError(_("The shipping time must be between 1 and 30 working days."),
                                     code="invalid_shipping_days")
    if not buyer_email and not buyer_phone:
        raise TransactionActionError(_("Give the buyer's email address or mobile number."),
                                     code="buyer_contact_required")
    if not isinstance(restocking_fee_basis_points, int) or not 0 <= restocking_fee_basis_points <= 5_000 \
            or (restocking_fee_basis_points and not accepts_returns):
        raise TransactionActionError(_("The restocking fee must be between 0% and 50%, and only with returns accepted."),
                                     code="invalid_restocking_fee")
    if is_licence_or_voucher and category != Category.DIGITAL:
        raise TransactionActionError(_("Only digital goods can be a licence key or voucher code."),
                                     code="invalid_licence")
    buyer_email = canonical_email(buyer_email)
    if buyer_email and buyer_email == canonical_email(seller.email):
        raise TransactionActionError(_("You cannot invite yourself as the buyer."), code="self_dealing")
    if quote is not None and ((quote.price, quote.shipping_cost) != (price, shipping_cost)
                              or quote.seller_fee >= quote.value):
        raise TransactionActionError(_("Please try again."), code="fee")

    now = timezone.now()
    for _attempt in range(5):
        try:
            with transaction.atomic():
                locked, created_today = _refuse_unless_seller_may_invite(seller, by_email=bool(buyer_email),
                                                                         with_fee_schedule=quote is None)
                counts = {} if started_by_buyer else {"created_today": created_today}
                if quote is None:
                    try:
                        quote = fee_quote(price=price, shipping_cost=shipping_cost, fee_payer=fee_payer,
                                          tiers=_fee_schedule_read_with(locked))
                    except FeeScheduleError as exc:
                        raise TransactionActionError(str(exc), code="fee") from exc
                txn = EscrowTransaction(
                    reference=generate_reference(), seller=seller, buyer_email=buyer_email,
                    buyer_phone=buyer_phone, title=title, description=description, category=category,
                    price=price, shipping_cost=shipping_cost, fee_payer=fee_payer,
                    fee_amount=quote.fee, buyer_fee=quote.buyer_fee, seller_fee=quote.seller_fee,
                    amount_due=quote.buyer_pays, inspection_days=inspection_days,
                    shipping_days=shipping_days, accepts_returns=accepts_returns,
                    restocking_fee_basis_points=restocking_fee_basis_points,
                    is_licence_or_voucher=is_licence_or_voucher,
                    invitation_expires_at=now + dt.timedelta(days=settings.INTRASA_INVITATION_EXPIRY_DAYS),
                )
                event = TransactionEvent(escrow_transaction=txn, action="created", actor=seller, actor_role=Role.SELLER,
                                         to_status=txn.status, data={"amount_due": txn.amount_due, "fee": txn.fee_amount})
                invitation = []
                if buyer_email and send_invitation:
                    invitation.append({
                        "event_key": f"txn:{txn.reference}:invitation", "kind": "invitation", "email": buyer_email,
                        "context": _context(txn, deadline=format_wib(txn.invitation_expires_at)),
                        "link": invitation_path(txn)})
                # The row, its first event and the invitation: one statement (transactions.writes),
                # which also counts the seller's transactions of the day before it; over the limit,
                # the refusal rolls it back.
                counted = write_together(inserts=[txn, event], notices=invitation, counts=counts)
                if not started_by_buyer:
                    _refuse_over_daily_limit(counted["created_today"])
                return txn
        except IntegrityError as exc:  # a reference collision (55 random bits): draw again
            if "reference" not in str(exc):
                raise
    raise TransactionActionError(_("Please try again."), code="reference_collision")


def _fee_schedule_column() -> dict:
    """The fee schedule in force as one column of the seller's lock statement (``annotate``): the
    tiers, in order, as JSON objects — read with the lock, not by a statement of its own, and as
    fresh as a read just before it (no cache: a changed schedule counts from the next creation)."""
    tiers = FeeTier.objects.order_by("min_amount").values(tier=JSONObject(id="id", **{name: name for name in TIER_FIELDS}))
    return {"fee_schedule": ArraySubquery(tiers)}


def _fee_schedule_read_with(locked_seller) -> list[FeeTier] | None:
    """The tiers ``_fee_schedule_column`` read with the seller's lock (``None``: not read, e.g. on
    SQLite, and ``fee_quote`` reads them itself)."""
    rows = getattr(locked_seller, "fee_schedule", None)
    return None if rows is None else [FeeTier(**row) for row in rows]


def _refuse_unless_seller_may_invite(seller, *, by_email: bool, with_fee_schedule: bool = False):
    """Inside ``transaction_create``'s transaction. An invitation is an email from INTRASA to
    anyone, in the seller's name: only a seller who proved their own address may send one, and
    only ``INTRASA_INVITATIONS_PER_DAY`` transactions per WIB calendar day. Transactions a buyer
    started from the seller's payment link (``started_by_buyer``; they have a ``payment_link_use``)
    are not invitations: the seller sent nobody anything, so they do not use up the day's limit —
    or a few buyers who press "Buy" and never pay could stop the seller inviting anyone. The
    seller's row is locked first, so concurrent requests are counted one after the other (the count is the
    database's, not a cache's: it survives restarts and cannot be raced). Returns the locked seller
    (with the fee schedule, ``with_fee_schedule`` on PostgreSQL: ``_fee_schedule_column``) and the
    seller's transactions of the day, which the caller counts after the lock was granted — in its
    write (``_refuse_over_daily_limit``), a statement that began after the lock's holder committed."""
    annotate = _fee_schedule_column() if with_fee_schedule and connection.vendor == "postgresql" else None
    locked = locks.lock("accounts.User", seller.pk, annotate=annotate)
    if by_email and locked.email_verified_at is None:
        raise TransactionActionError(
            _("Verify your email address before inviting a buyer by email: invitations are sent by "
              "INTRASA in your name. Open the link we emailed you, or send yourself a new one from "
              "your profile page."),
            code="email_unverified",
        )
    start_of_day = now_wib().replace(hour=0, minute=0, second=0, microsecond=0)
    return locked, EscrowTransaction.objects.filter(seller=locked, created_at__gte=start_of_day,
                                                    payment_link_use__isnull=True)


def _refuse_over_daily_limit(created_today: int) -> None:
    """``created_today``: the seller's transactions of the day before this one."""
    if created_today >= settings.INTRASA_INVITATIONS_PER_DAY:
        raise TransactionActionError(
            _("You have created %(limit)d transactions today, the most one account may create per "
              "day. You can create more tomorrow (from 00.00 WIB).")
            % {"limit": settings.INTRASA_INVITATIONS_PER_DAY},
            code="daily_limit",
        )


def invitation_refusal(*, escrow_transaction, user) -> tuple[str, str] | None:
    """Why ``user`` may not accept or decline this invitation, as ``(code, message)``; ``None``
    when they may. Who may answer an invitation:

    * **The seller named the buyer's email:** only a logged-in user whose *verified* email is that
      address (canonical form, ``accounts.validators.canonical_email``). The link alone is not
      enough: it travels through chats, forwards and mail scanners, and whoever holds it must not
      become the buyer (or cancel the deal by declining). Others are told, with the address masked,
      which account the invitation is for.
    * **The seller gave only a phone number:** INTRASA cannot check a phone number, so the seller
      sends the link themselves (a chat message) and vouches for who receives it. The first user
      with a verified email who accepts becomes the buyer; the seller is told who accepted (name
      and email, in the notification and on the transaction page) and can cancel before any
      payment if it is not the person they meant. Declining follows the same rule, and the
      seller sees who declined.
    """
    txn = escrow_transaction
    if user.pk == txn.seller_id:
        return "seller", _("This is your own transaction: as the seller you cannot accept or decline it.")
    if txn.buyer_id is not None:
        return None if txn.buyer_id == user.pk else ("taken", _("Another buyer has already accepted this invitation."))
    if txn.buyer_email:
        if canonical_email(user.email) != canonical_email(txn.buyer_email):
            return "not_addressee", _(
                "This invitation was sent to %(email)s, and only that account can accept or decline "
                "it. You are logged in as %(current)s: log out, then log in (or sign up) with the "
                "address the invitation was sent to."
            ) % {"email": mask_email(txn.buyer_email), "current": user.email}
        if user.email_verified_at is None:
            return "email_unverified", _(
                "Verify your email address first: open the link we emailed to %(email)s, or send "
                "yourself a new one from your profile page. Then come back to this invitation."
            ) % {"email": user.email}
        return None
    if user.email_verified_at is None:
        return "email_unverified", _(
            "Verify your email address before you accept or decline an invitation: open the link we "
            "emailed to %(email)s, or send yourself a new one from your profile page."
        ) % {"email": user.email}
    return None


def invitation_path(txn: EscrowTransaction) -> str:
    return reverse("transactions:invitation", kwargs={"token": txn.invitation_token})


def transaction_accept(*, escrow_transaction, buyer) -> EscrowTransaction:
    """The invited buyer reviewed the terms and accepts; the payment window starts."""
    with transaction.atomic():
        txn = locks.lock_transaction(escrow_transaction, annotate=_with_committed_user(buyer))
        if txn.buyer_id == buyer.pk:
            return txn  # accepting twice changes nothing
        if txn.status != Status.CREATED:
            raise TransactionActionError(_("This invitation can no longer be accepted."), code="not_open")
        if txn.buyer_id is not None:
            raise TransactionActionError(_("Another buyer has already accepted this invitation."),
                                         code="taken")
        if buyer.pk == txn.seller_id:
            raise TransactionActionError(_("You cannot buy from yourself."), code="self_dealing")
        refusal = invitation_refusal(escrow_transaction=txn, user=_fresh(buyer, txn))
        if refusal is not None:
            raise TransactionActionError(refusal[1], code=refusal[0])
        now = timezone.now()
        if now >= txn.invitation_expires_at:
            raise TransactionActionError(_("This invitation has expired."), code="expired")
        txn.buyer = buyer
        txn.accepted_at = now
        txn.payment_due_at = now + dt.timedelta(hours=settings.INTRASA_PAYMENT_WINDOW_HOURS)
        event = TransactionEvent(escrow_transaction=txn, action="accepted", actor=buyer, actor_role=Role.BUYER,
                                 data={"payment_due_at": txn.payment_due_at.isoformat()})
        write_together(updates=[Update(txn, ["buyer", "accepted_at", "payment_due_at", "updated_at"],
                                       expected={"status": txn.status})],
                       inserts=[event],
                       notices=[_party_notice(txn, txn.seller, "accepted", buyer=buyer.full_name,
                                              buyer_email=buyer.email)])
        return txn


def transaction_decline(*, escrow_transaction, user, reason: str) -> EscrowTransaction:
    """The invited person declines: the transaction is cancelled before any payment."""
    reason = _require_reason(reason)
    with transaction.atomic():
        txn = _lock(escrow_transaction)
        if user.pk == txn.seller_id:
            raise TransactionActionError(_("The seller cancels instead of declining."), code="forbidden")
        if txn.buyer_id not in (None, user.pk):
            raise TransactionActionError(_("You are not allowed to do this on this transaction."),
                                         code="forbidden")
        refusal = invitation_refusal(escrow_transaction=txn, user=_fresh(user))
        if refusal is not None:
            raise TransactionActionError(refusal[1], code=refusal[0])
        _transition(txn, "cancel", actor=user, role=Role.BUYER, reason=reason, check_permission=False,
                    data={"declined": True}, setting={"closed_at": timezone.now()})
        _notify_party(txn, txn.seller, "declined", reason=reason, buyer=user.full_name, buyer_email=user.email)
        return txn


def transaction_cancel(*, escrow_transaction, actor, reason: str) -> EscrowTransaction:
    """Either party, or staff with the transition's permission, cancels before any payment.

    A staff cancellation is a staff action: besides the timeline event it writes the audit row
    (who, why, from which state) here, in the same database transaction, whoever calls."""
    reason = _require_reason(reason)
    with transaction.atomic():
        txn = _lock(escrow_transaction)
        role = txn.role_of(actor)
        event = _transition(txn, "cancel", actor=actor, role=role or Role.STAFF, reason=reason,
                            setting={"closed_at": timezone.now()})
        if role is None:
            audit_record(actor=actor, action="transaction.cancel", target=txn, reason=reason,
                         data={"from": event.from_status, "to": event.to_status})
        other = txn.buyer if role == "seller" else txn.seller
        _notify_party(txn, other, "cancelled", reason=reason)
        return txn


def transaction_expire(*, escrow_transaction) -> EscrowTransaction:
    """Beat job: nobody paid in time."""
    with transaction.atomic():
        txn = _lock(escrow_transaction)
        _transition(txn, "expire", actor=None, role=Role.SYSTEM, check_permission=False,
                    setting={"closed_at": timezone.now()})
        _notify_parties(txn, [(txn.seller, "expired", {}), (txn.buyer, "expired", {})])
        return txn


# --- money in -------------------------------------------------------------------------------

def transaction_mark_paid(*, escrow_transaction, payment_reference: str, amount: int | None) -> EscrowTransaction:
    """A payment notification arrived (``amount`` when the source states one). Money is not real
    until ``transaction_verify``."""
    with transaction.atomic():
        txn = _lock(escrow_transaction)
        if txn.status == Status.PAID and txn.paid_at is not None:
            return txn
        _transition(txn, "mark_paid", actor=None, role=Role.SYSTEM, check_permission=False,
                    data={"payment_reference": payment_reference, "amount": amount},
                    setting={"paid_at": timezone.now()})
        return txn


def transaction_verify(
    *, escrow_transaction, payment_reference: str, amount_received: int,
    clearing_category: str = AccountCategory.PROVIDER_CLEARING, funding: list | None = None,
) -> EscrowTransaction:
    """The provider confirmed the payment: hold the money in escrow and tell the seller to ship.

    ``funding`` are the debit lines the hold is funded from (default: the whole amount from
    ``clearing_category``); a bank transfer's unique-code discount is one of them.
    """
    with transaction.atomic():
        txn = _lock(escrow_transaction)
        if txn.status != Status.PAID:
            if txn.verified_at is not None:
                return txn  # verified already: a repeated inquiry changes nothing
        if amount_received != txn.amount_due:
            raise TransactionActionError(
                _("The amount received (%(received)s) differs from the amount due (%(due)s).")
                % {"received": format_rupiah(amount_received), "due": format_rupiah(txn.amount_due)},
                code="amount_mismatch",
            )
        now = timezone.now()
        _transition(txn, "verify", actor=None, role=Role.SYSTEM, check_permission=False,
                    data={"payment_reference": payment_reference, "amount": amount_received},
                    setting={"verified_at": now, "amount_received": amount_received,
                             "shipping_deadline": working_calendar().add_working_days(now, txn.shipping_days)},
                    notices=lambda: [
                        _party_notice(txn, txn.seller, "payment_verified_seller",
                                      deadline=format_wib(txn.shipping_deadline)),
                        _party_notice(txn, txn.buyer, "payment_verified_buyer")])
        entry_post(
            idempotency_key=f"payment-verified:{txn.pk}", kind=EntryKind.PAYMENT_VERIFIED,
            memo=f"{txn.reference} payment {payment_reference}", escrow_transaction=txn,
            lines=[*(funding or [debit(clearing_category, amount_received)]),
                   credit(AccountCategory.ESCROW_HOLD, amount_received)],
        )
        return txn


def transaction_reopen_for_payment(*, escrow_transaction, reason: str, data: dict | None = None,
                                   action: str | None = None) -> EscrowTransaction:
    """A short payment was confirmed (or, ``action="reopen_after_reversal"``, the provider took back a payment
    before it was verified): the transaction waits for a full payment again. ``data`` (the bill, ``paid``
    and ``billed``) lets the timeline say it in the reader's language (``TransactionEvent.shown_reason``)."""
    with transaction.atomic():
        txn = _lock(escrow_transaction)
        if txn.status == Status.CREATED:
            return txn
        _transition(txn, "reopen_for_payment", actor=None, role=Role.SYSTEM, check_permission=False, reason=reason,
                    data=data, action=action)
        txn.paid_at = None
        txn.payment_due_at = timezone.now() + dt.timedelta(hours=settings.INTRASA_PAYMENT_WINDOW_HOURS)
        txn.save(update_fields=["paid_at", "payment_due_at", "updated_at"])
        return txn


# --- shipping and confirmation --------------------------------------------------------------

def transaction_ship(
    *, escrow_transaction, seller, courier: str = "", tracking_number: str = "", delivery_note: str = ""
) -> EscrowTransaction:
    """The seller shipped the goods (courier + receipt number) or delivered the service."""
    with transaction.atomic():
        txn = _lock(escrow_transaction)
        tracking_number = tracking_number.strip()
        delivery_note = delivery_note.strip()
        if txn.needs_shipping and (not courier or not tracking_number):
            raise TransactionActionError(_("Choose the courier and enter the receipt (resi) number."),
                                         code="shipment_required")
        if not txn.needs_shipping and not delivery_note:
            raise TransactionActionError(_("Describe how the service or digital goods were delivered."),
                                         code="delivery_note_required")
        if not can_proceed(txn.ship):  # checked before the fields change (the transition saves them all)
            _transition(txn, "ship", actor=seller, role=Role.SELLER)
        now = timezone.now()
        calendar = working_calendar()
        txn.shipped_at = now
        txn.courier = courier if txn.needs_shipping else ""
        txn.tracking_number = tracking_number if txn.needs_shipping else ""
        txn.delivery_note = delivery_note
        if txn.needs_shipping:
            # The clock starts at delivery (transactions.delivery): until the buyer or the courier
            # says so, the deadline counts from the courier's delivery estimate.
            start = delivery.estimated_delivery(shipped_at=now, courier=txn.courier, calendar=calendar)
        else:
            start = txn.delivered_at = now
            txn.delivery_source = DeliverySource.SELLER_DELIVERY
        txn.inspection_ends_at = delivery.inspection_deadline(start=start, inspection_days=txn.inspection_days,
                                                              extended=False, calendar=calendar)
        shipment = (f"{txn.get_courier_display()} {txn.tracking_number}" if txn.needs_shipping
                    else delivery_note[:100])
        # One statement: the transition saves the row with the shipment's fields, its event and the
        # buyer's notice.
        _transition(txn, "ship", actor=seller, role=Role.SELLER,
                    data={"courier": courier, "tracking_number": tracking_number},
                    notices=lambda: [_party_notice(txn, txn.buyer, "shipped", shipment=shipment,
                                                   deadline=format_wib(txn.inspection_ends_at))])
        return txn


def _escrow_balance_mismatch() -> TransactionActionError:
    return TransactionActionError(_("The escrow balance does not match; staff have been alerted."),
                                  code="ledger_mismatch")


def _escrow_hold_refusal(txn) -> Refusal:
    """The release's check that the escrow hold is what the buyer paid, counted in the step's write."""
    return Refusal(escrow_hold_other_than(escrow_transaction=txn, expected=txn.amount_received),
                   _escrow_balance_mismatch())


def _release_to_seller(txn, *, actor, hold_checked: bool = False) -> None:
    """Post the escrow release: the hold goes to seller payable and fee revenue. ``hold_checked``:
    the step's write counted ``_escrow_hold_refusal`` under the same lock, so the hold is known."""
    if hold_checked:
        held = txn.amount_received
    else:
        held = transaction_balances(escrow_transaction=txn).get(AccountCategory.ESCROW_HOLD, 0)
        if held != txn.amount_received:
            raise _escrow_balance_mismatch()
    entry_post(
        idempotency_key=f"escrow-release:{txn.pk}", kind=EntryKind.ESCROW_RELEASE,
        memo=f"{txn.reference} released to seller", escrow_transaction=txn, actor=actor,
        lines=[
            debit(AccountCategory.ESCROW_HOLD, held),
            credit(AccountCategory.SELLER_PAYABLE, txn.seller_receives),
            credit(AccountCategory.FEE_REVENUE, txn.fee_amount),
        ],
    )


def _confirmation_notices(txn) -> list[dict | None]:
    """Both parties' notices of the confirm transition (written with it, ``_transition``)."""
    return [_party_notice(txn, txn.seller, "confirmed_seller", amount=format_rupiah(txn.seller_receives)),
            _party_notice(txn, txn.buyer, "confirmed_buyer")]


def transaction_confirm(*, escrow_transaction, buyer, refusals: Sequence[Refusal] = ()) -> EscrowTransaction:
    """The buyer confirms receipt (FAQ step 5): the money is released to the seller. ``refusals``:
    the flow's own reasons not to release (``escrow``: a reversed payment), checked by the
    confirmation's write together with the escrow hold."""
    with _step_atomic(escrow_transaction):
        txn = _lock(escrow_transaction)
        txn.confirmed_at = timezone.now()
        _transition(txn, "confirm", actor=buyer, role=Role.BUYER, notices=lambda: _confirmation_notices(txn),
                    refusals=[*refusals, _escrow_hold_refusal(txn)])
        _release_to_seller(txn, actor=buyer, hold_checked=True)
        return txn


def transaction_auto_confirm(*, escrow_transaction) -> EscrowTransaction | None:
    """Beat job: the inspection period ended without a confirmation or a dispute."""
    with _step_atomic(escrow_transaction):
        txn = _lock(escrow_transaction)
        if txn.status != Status.SHIPPED or txn.inspection_ends_at is None or txn.inspection_ends_at > timezone.now():
            return None  # the buyer acted first, or a dispute froze the clock
        txn.confirmed_at = timezone.now()
        txn.auto_confirmed = True
        _transition(txn, "confirm", actor=None, role=Role.SYSTEM, check_permission=False,
                    reason="inspection period ended", notices=lambda: _confirmation_notices(txn))
        _release_to_seller(txn, actor=None)
        return txn


def transaction_mark_disbursed(*, escrow_transaction) -> EscrowTransaction:
    """Every payout part succeeded: nothing is left in seller payable."""
    with transaction.atomic():
        txn = _lock(escrow_transaction)
        transactions_mark_disbursed(escrow_transactions=[txn])
        return txn


def transactions_mark_disbursed(*, escrow_transactions: list[EscrowTransaction], only_settled: bool = False) -> None:
    """``transaction_mark_disbursed`` for several transactions at once (a batch of payout answers),
    each already locked by the caller in this database transaction: one balance query for all, then
    their rows and timeline events in one statement (``transactions.writes``). ``only_settled``: a transaction that
    still owes its seller (a second seller payout on its way, after a refused refund was released to
    the seller) is left as it is instead of refused; its last payout marks it."""
    # Two seller payouts of one transaction (the second after a refused refund was released to
    # the seller) can complete in the same batch: the transaction is then named twice, and is
    # marked once (a second UPDATE of the row in the same statement would refuse the whole batch).
    first_of_each: dict[int, EscrowTransaction] = {}
    for txn in escrow_transactions:
        first_of_each.setdefault(txn.pk, txn)
    escrow_transactions = list(first_of_each.values())
    if not escrow_transactions:
        return
    for txn in escrow_transactions:
        if not locks.is_held("transactions.EscrowTransaction", txn.pk):
            raise locks.LockOrderError(f"mark {txn.reference} disbursed with its row locked")
    owed = transactions_seller_payable(ids=[txn.pk for txn in escrow_transactions])
    now = timezone.now()
    updates, events = [], []
    for txn in escrow_transactions:
        if only_settled and owed.get(txn.pk, 0) != 0:
            continue
        if owed.get(txn.pk, 0) != 0:
            raise TransactionActionError(
                _("%(amount)s is still owed to the seller.") % {"amount": format_rupiah(owed[txn.pk])},
                code="payout_incomplete")
        if not can_proceed(txn.mark_disbursed):
            raise TransactionActionError(
                _("This action is not possible while the transaction is “%(status)s”.")
                % {"status": txn.get_status_display()}, code="illegal_transition")
        from_status = txn.status
        txn.mark_disbursed()
        txn.closed_at = now
        updates.append(Update(txn, expected={"status": from_status}))
        events.append(TransactionEvent(escrow_transaction=txn, action="mark_disbursed", actor=None,
                                       actor_role=Role.SYSTEM, from_status=from_status, to_status=txn.status,
                                       data={}))
    # Every row and every event in one statement, each announced as a save would announce it (the
    # timeline's optional listeners, the partner API's webhook events, are promised every event).
    if updates:
        write_together(updates=updates, inserts=events)


def transaction_payout_given_back(*, escrow_transaction: EscrowTransaction) -> EscrowTransaction:
    """The bank gave a seller payout back after the transaction was marked paid out (SendMe 04): the
    reversal's ledger entry owes the money to the seller again, so the transaction no longer says "Paid
    out to seller" and waits again for the payout; the payout's next success marks it paid out again
    (``transactions_mark_disbursed``). Called by name by the disbursement flow that recorded the
    reversal, in its database transaction, with the transaction locked."""
    txn = escrow_transaction
    if not locks.is_held("transactions.EscrowTransaction", txn.pk):
        raise locks.LockOrderError(f"put {txn.reference} back to waiting for its payout with its row locked")
    if txn.status == Status.DISBURSED:
        _transition(txn, "payout_given_back", actor=None, role=Role.SYSTEM, check_permission=False,
                    setting={"closed_at": None})
    return txn


def transaction_take_back_payment(*, escrow_transaction: EscrowTransaction, actor, reason: str,
                                  clearing_category: str, collected: int, discount: int,
                                  bill_no: str) -> EscrowTransaction:
    """Faspay took the buyer's payment back (a reversal) while INTRASA held it in escrow, and staff
    book it: the hold leaves through the clearing account the payment came in by (``collected``, what
    the buyer paid) and INTRASA's unique-code ``discount`` goes back to the discount account. The
    buyer has the money from the provider, so the transaction ends refunded with nothing to send, and
    both parties are told. Called by name by the reversal's flow (``payments.services.bill_book_reversal``)
    in its database transaction, with the transaction locked and staff's permission checked."""
    txn = escrow_transaction
    if not locks.is_held("transactions.EscrowTransaction", txn.pk):
        raise locks.LockOrderError(f"take the payment of {txn.reference} back with its row locked")
    reason = _require_reason(reason)
    held = transaction_balances(escrow_transaction=txn).get(AccountCategory.ESCROW_HOLD, 0)
    if held != collected + discount or held != txn.amount_received:
        raise TransactionActionError(_("The escrow balance does not match; staff have been alerted."),
                                     code="ledger_mismatch")
    now = timezone.now()
    amount = format_rupiah(collected)
    _transition(txn, "take_back_payment", actor=actor, role=Role.STAFF, check_permission=False, reason=reason,
                data={"bill": bill_no, "amount": collected},
                setting={"closed_at": now, "payment_taken_back_at": now},
                notices=lambda: [_party_notice(txn, txn.buyer, "payment_taken_back_buyer", amount=amount),
                                 _party_notice(txn, txn.seller, "payment_taken_back_seller", amount=amount)])
    entry_post(
        idempotency_key=f"payment-taken-back:{txn.pk}", kind=EntryKind.PAYMENT_TAKEN_BACK,
        memo=f"{txn.reference} {bill_no} payment taken back by the provider", escrow_transaction=txn, actor=actor,
        lines=[debit(AccountCategory.ESCROW_HOLD, held), credit(clearing_category, collected),
               *([credit(AccountCategory.PAYMENT_DISCOUNT, discount)] if discount else [])],
    )
    return txn


# --- disputes and refunds -------------------------------------------------------------------

def transaction_open_dispute(*, escrow_transaction, buyer, reason: str) -> EscrowTransaction:
    """The buyer raises a problem before confirming: the funds freeze and every clock stops."""
    reason = _require_reason(reason)
    with transaction.atomic():
        txn = _lock(escrow_transaction)
        _transition(txn, "open_dispute", actor=buyer, role=Role.BUYER, reason=reason)
        _notify_party(txn, txn.seller, "dispute_opened", reason=reason)
        return txn


def transaction_resolve_release(*, escrow_transaction, staff, reason: str) -> EscrowTransaction:
    """Staff decide a dispute for the seller: the money is released as on confirmation."""
    reason = _require_reason(reason)
    with transaction.atomic():
        txn = _lock(escrow_transaction)
        txn.confirmed_at = timezone.now()
        _transition(txn, "resolve_release", actor=staff, role=Role.STAFF, reason=reason,
                    notices=lambda: _confirmation_notices(txn))
        _release_to_seller(txn, actor=staff)
        return txn


def transaction_refund(*, escrow_transaction, actor, reason: str, by_agreement: bool = False) -> EscrowTransaction:
    """All held money goes back: the seller cancels after payment, staff decide a dispute, or
    (``by_agreement``) the parties settled a dispute that way, ``actor`` having accepted. The buyer is
    owed what they paid (``selectors.refundable_in_full``); a bank transfer's unique-code discount,
    which INTRASA added to the escrow, goes back to INTRASA's discount account."""
    reason = _require_reason(reason)
    with transaction.atomic():
        txn = _lock(escrow_transaction)
        role = Role.STAFF if actor.is_staff and txn.role_of(actor) is None else txn.role_of(actor)
        if role is None:
            # Neither a party nor staff: the transition's permission would refuse them too, and
            # nobody else can have accepted an agreement (the timeline needs a role).
            raise TransactionActionError(_("You are not allowed to do this on this transaction."),
                                         code="forbidden")
        _transition(txn, "refund", actor=actor, role=role, reason=reason, check_permission=not by_agreement,
                    data={"by_agreement": True, "accepted_by": actor.full_name} if by_agreement else None)
        held = transaction_balances(escrow_transaction=txn).get(AccountCategory.ESCROW_HOLD, 0)
        discount = held - refundable_in_full(escrow_transaction=txn, held=held)
        entry_post(
            idempotency_key=f"escrow-refund:{txn.pk}", kind=EntryKind.ESCROW_REFUND,
            memo=f"{txn.reference} returned to buyer", escrow_transaction=txn, actor=actor,
            lines=[debit(AccountCategory.ESCROW_HOLD, held),
                   credit(AccountCategory.BUYER_REFUND_PAYABLE, held - discount),
                   *([credit(AccountCategory.PAYMENT_DISCOUNT, discount)] if discount else [])],
        )
        txn.closed_at = timezone.now()
        txn.save(update_fields=["closed_at", "updated_at"])
        for party in (txn.buyer, txn.seller):
            _notify_party(txn, party, "refunded", reason=reason, amount=format_rupiah(held - discount))
        return txn


def transaction_resolve_split(*, escrow_transaction, actor, buyer_amount: int, seller_amount: int, fee: int,
                              reason: str, by_agreement: bool) -> EscrowTransaction:
    """End a dispute by dividing the held money: ``buyer_amount`` to buyer refund payable,
    ``seller_amount`` to seller payable and ``fee`` to fee revenue. The three add up to what is held;
    who bears the fee is the refund policy's rule (``refunds.policy.split_allocation``), applied by
    the caller — the dispute resolution, which also opens the buyer's refund request and plans the
    seller's payout.

    Staff need the ``resolve_dispute`` permission. ``by_agreement`` is the parties' own settlement
    (an accepted offer): ``actor`` is the party who accepted, the FSM permission (meant for staff) is
    not checked, and the timeline says so. A buyer amount of 0 is a release by agreement; a full
    refund goes through ``transaction_refund``.
    """
    reason = _require_reason(reason)
    with transaction.atomic():
        txn = _lock(escrow_transaction)
        held = transaction_balances(escrow_transaction=txn).get(AccountCategory.ESCROW_HOLD, 0)
        if txn.status == Status.DISPUTED and held != txn.amount_received:
            raise TransactionActionError(_("The escrow balance does not match; staff have been alerted."),
                                         code="ledger_mismatch")
        in_full = refundable_in_full(escrow_transaction=txn, held=held)  # what the buyer paid
        if not isinstance(buyer_amount, int) or not 0 <= buyer_amount < in_full:
            raise TransactionActionError(
                _("The buyer's amount must be at least %(min)s and less than %(max)s (for everything, "
                  "refund in full).") % {"min": format_rupiah(0), "max": format_rupiah(in_full)},
                code="invalid_split")
        if min(seller_amount, fee) < 0 or buyer_amount + seller_amount + fee != held:
            raise TransactionActionError(_("The split does not add up to the money held."), code="invalid_split")
        split = SplitAmounts(buyer=buyer_amount, seller=seller_amount, fee=fee)
        role = txn.role_of(actor) if by_agreement else Role.STAFF
        data = {"split": True, "buyer_amount": split.buyer, "seller_amount": split.seller, "fee": split.fee,
                "by_agreement": by_agreement}
        if by_agreement:
            data["accepted_by"] = actor.full_name
        _transition(txn, "resolve_release", actor=actor, role=role or Role.STAFF, check_permission=not by_agreement,
                    reason=reason, data=data, action="resolve_split")
        lines = [debit(AccountCategory.ESCROW_HOLD, held)]
        for category, amount in ((AccountCategory.BUYER_REFUND_PAYABLE, split.buyer),
                                  (AccountCategory.SELLER_PAYABLE, split.seller),
                                  (AccountCategory.FEE_REVENUE, split.fee)):
            if amount:
                lines.append(credit(category, amount))
        entry_post(
            idempotency_key=f"escrow-split:{txn.pk}", kind=EntryKind.ESCROW_RELEASE,
            memo=f"{txn.reference} dispute split: buyer {split.buyer}, seller {split.seller}",
            escrow_transaction=txn, actor=actor, lines=lines,
        )
        txn.confirmed_at = timezone.now()
        txn.save(update_fields=["confirmed_at", "updated_at"])
        if not split.seller:
            transaction_mark_disbursed(escrow_transaction=txn)  # nothing is owed to the seller
        for party in (txn.buyer, txn.seller):
            _notify_party(txn, party, "dispute_split", reason=reason, buyer_amount=format_rupiah(split.buyer),
                          seller_amount=format_rupiah(split.seller))
        return txn


def transaction_release_refused_refund(*, escrow_transaction, actor, amount: int, reason: str,
                                      refund_request_id: int) -> int:
    """INTRASA upheld the seller's rejection of the goods a buyer sent back (``refunds.policy``:
    refused returns): ``amount`` of the escrow money that was owed back to the buyer goes to the
    seller as on a confirmation — INTRASA's service fee as on a release (the part of ``fee_amount``
    not booked yet on this transaction), the rest to seller payable. Returns what the seller gets.

    Called by name by the flow that upheld the rejection (``escrow.services``), in its database
    transaction, with the transaction locked; the refund request is closed by the same flow. One entry
    per refund request (its idempotency key): the flow run twice moves the money once."""
    reason = _require_reason(reason)
    txn = _lock(escrow_transaction)
    owed = transaction_balances(escrow_transaction=txn).get(AccountCategory.BUYER_REFUND_PAYABLE, 0)
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= owed:
        raise TransactionActionError(_("The ledger does not owe %(amount)s to the buyer; staff have been alerted.")
                                     % {"amount": format_rupiah(amount)}, code="ledger_mismatch")
    # A refund in full gave a bank transfer's unique-code discount back to INTRASA (``transaction_refund``);
    # released to the seller after all, the escrow is whole again, as on any release.
    restored = transaction_discount_taken_back(escrow_transaction=txn)
    fee = min(max(txn.fee_amount - transaction_fee_booked(escrow_transaction=txn), 0), amount + restored)
    seller = amount + restored - fee
    data = {"refund_request": refund_request_id, "amount": amount, "seller_amount": seller, "fee": fee}
    if restored:
        data["discount_restored"] = restored
    _transition(txn, "release_refused_refund", actor=actor, role=Role.STAFF, check_permission=False, reason=reason,
                data=data)
    lines = [debit(AccountCategory.BUYER_REFUND_PAYABLE, amount),
             *([debit(AccountCategory.PAYMENT_DISCOUNT, restored)] if restored else [])]
    if seller:
        lines.append(credit(AccountCategory.SELLER_PAYABLE, seller))
    if fee:
        lines.append(credit(AccountCategory.FEE_REVENUE, fee))
    entry_post(idempotency_key=f"refund-refused-release:{refund_request_id}", kind=EntryKind.ESCROW_RELEASE,
               memo=f"{txn.reference} refund refused (goods rejected): released to seller", escrow_transaction=txn,
               actor=actor, lines=lines)
    txn.confirmed_at = txn.confirmed_at or timezone.now()
    txn.closed_at = None
    txn.save(update_fields=["confirmed_at", "closed_at", "updated_at"])
    audit_record(actor=actor, action="transaction.release_refused_refund", target=txn, reason=reason, data=data)
    if not seller:
        # All of it was INTRASA's fee: paid out already, unless a split's seller payout is still on its way.
        transactions_mark_disbursed(escrow_transactions=[txn], only_settled=True)
    return seller


# --- the inspection clock (transactions.delivery) ------------------------------------------------

def _start_clock(txn, *, at, source: str, actor, role: str, action: str, data=None) -> None:
    """Delivery is known: the inspection period runs from ``at`` (keeping an extension already
    granted). The reminder is due again for the new deadline."""
    txn.delivered_at, txn.delivery_source = at, source
    txn.inspection_ends_at = delivery.inspection_deadline(
        start=at, inspection_days=txn.inspection_days, extended=txn.inspection_extended_at is not None,
        calendar=working_calendar())
    txn.confirm_reminder_sent_at = None
    txn.save(update_fields=["delivered_at", "delivery_source", "inspection_ends_at", "confirm_reminder_sent_at",
                            "updated_at"])
    transaction_record_event(txn, action=action, actor=actor, role=role,
                             data={"delivered_at": at.isoformat(), "inspection_ends_at": txn.inspection_ends_at.isoformat(),
                                   **(data or {})})


def _clock_open_to_delivery(txn) -> bool:
    """Delivery can still be learnt: shipped goods whose clock runs from the estimate (or nothing)."""
    return (txn.status == Status.SHIPPED and txn.needs_shipping
            and txn.delivery_source in ("", DeliverySource.ESTIMATE))


def transaction_mark_received(*, escrow_transaction, buyer) -> EscrowTransaction:
    """The buyer says the goods arrived: the inspection period starts now (unless delivery was
    already known from the courier's scan)."""
    with transaction.atomic():
        txn = _lock(escrow_transaction)
        if txn.buyer_id != buyer.pk:
            raise TransactionActionError(_("Only the buyer can do this."), code="forbidden")
        if not _clock_open_to_delivery(txn):
            raise TransactionActionError(_("The delivery of this transaction is already recorded."),
                                         code="already_delivered")
        _start_clock(txn, at=timezone.now(), source=DeliverySource.BUYER, actor=buyer, role=Role.BUYER,
                     action="received")
        _notify_party(txn, txn.seller, "goods_received", deadline=format_wib(txn.inspection_ends_at))
        return txn


def transaction_extend_inspection(*, escrow_transaction, buyer, reason: str) -> EscrowTransaction:
    """Once, before it ends, the buyer extends the inspection period by
    ``delivery.EXTENSION_WORKING_DAYS`` working days, with a reason; the seller is told."""
    reason = _require_reason(reason)
    with transaction.atomic():
        txn = _lock(escrow_transaction)
        if txn.buyer_id != buyer.pk:
            raise TransactionActionError(_("Only the buyer can do this."), code="forbidden")
        if txn.status != Status.SHIPPED or txn.inspection_ends_at is None:
            raise TransactionActionError(_("Only a shipped transaction's inspection period can be extended."),
                                         code="not_shipped")
        if txn.inspection_extended_at is not None:
            raise TransactionActionError(_("The inspection period can be extended only once."),
                                         code="already_extended")
        now = timezone.now()
        if txn.inspection_ends_at <= now:
            raise TransactionActionError(_("The inspection period has already ended."), code="ended")
        txn.inspection_extended_at, txn.inspection_extension_reason = now, reason
        txn.inspection_ends_at = working_calendar().add_working_days(txn.inspection_ends_at,
                                                                     delivery.EXTENSION_WORKING_DAYS)
        txn.confirm_reminder_sent_at = None  # the reminder follows the new deadline
        txn.save(update_fields=["inspection_extended_at", "inspection_extension_reason", "inspection_ends_at",
                                "confirm_reminder_sent_at", "updated_at"])
        transaction_record_event(txn, action="inspection_extended", actor=buyer, role=Role.BUYER, reason=reason,
                                 data={"inspection_ends_at": txn.inspection_ends_at.isoformat()})
        _notify_party(txn, txn.seller, "inspection_extended", deadline=format_wib(txn.inspection_ends_at),
                      reason=reason)
        return txn


def transaction_record_tracking(*, escrow_transaction, result: "tracking.TrackingResult",
                                now: dt.datetime | None = None) -> EscrowTransaction:
    """Record what the tracking source said (``transactions.tasks`` asked it, outside any database
    transaction): new courier events on the timeline; a plausible delivery scan starts the clock;
    without one, the courier's estimate starts it once reached."""
    now = now or timezone.now()
    with transaction.atomic():
        txn = _lock(escrow_transaction)
        txn.tracking_checked_at = now
        txn.save(update_fields=["tracking_checked_at"])
        if txn.status != Status.SHIPPED:
            return txn
        seen = {(e.data.get("code"), e.data.get("at")) for e in txn.events.filter(action__startswith="courier_")}
        for event in result.events:
            if event.at > now or (event.code, event.at.isoformat()) in seen:
                continue
            transaction_record_event(txn, action=f"courier_{event.code}", actor=None, role=Role.SYSTEM,
                                     data={"code": event.code, "at": event.at.isoformat(), "location": event.location,
                                           "description": event.description})
        if not _clock_open_to_delivery(txn):
            return txn
        scanned = result.delivered_at
        shipped_at = txn.shipped_at or now  # set when the seller shipped: the clock is open only then
        at = delivery.plausible_scan(scanned_at=scanned, shipped_at=shipped_at, now=now) if scanned else None
        if scanned and at is not None and (txn.delivery_source == "" or txn.delivered_at is None
                                           or at > txn.delivered_at):
            _start_clock(txn, at=at, source=DeliverySource.COURIER_SCAN, actor=None, role=Role.SYSTEM,
                         action="delivered_scan", data={"scanned_at": scanned.isoformat()})
        elif at is None and txn.delivery_source == "":
            estimate = delivery.estimated_delivery(shipped_at=shipped_at, courier=txn.courier,
                                                   calendar=working_calendar())
            if estimate <= now:
                _start_clock(txn, at=estimate, source=DeliverySource.ESTIMATE, actor=None, role=Role.SYSTEM,
                             action="delivery_estimate")
        return txn


# --- reminders ------------------------------------------------------------------------------

def transaction_remind_confirmation(*, escrow_transaction) -> bool:
    """Tell the buyer, once, that the inspection period ends soon."""
    with transaction.atomic():
        txn = _lock(escrow_transaction)
        if txn.status != Status.SHIPPED or txn.confirm_reminder_sent_at is not None:
            return False
        txn.confirm_reminder_sent_at = timezone.now()
        txn.save(update_fields=["confirm_reminder_sent_at", "updated_at"])
        transaction_record_event(txn, action="confirm_reminder", actor=None, role=Role.SYSTEM)
        # One reminder per deadline: a new deadline (delivery learnt, extension) gets its own.
        _notify_party(txn, txn.buyer, "confirm_reminder", suffix=f":{txn.inspection_ends_at:%Y%m%d%H%M}",
                      deadline=format_wib(txn.inspection_ends_at))
        return True


def transaction_remind_shipping(*, escrow_transaction) -> bool:
    """Tell the seller, once, that the shipping deadline is near; after it, tell the buyer too."""
    with transaction.atomic():
        txn = _lock(escrow_transaction)
        if txn.status != Status.VERIFIED or txn.shipping_deadline is None:
            return False
        deadline = format_wib(txn.shipping_deadline)
        sent = False
        if txn.shipping_reminder_sent_at is None:
            txn.shipping_reminder_sent_at = timezone.now()
            txn.save(update_fields=["shipping_reminder_sent_at", "updated_at"])
            transaction_record_event(txn, action="shipping_reminder", actor=None, role=Role.SYSTEM)
            _notify_party(txn, txn.seller, "shipping_reminder", deadline=deadline)
            sent = True
        if txn.shipping_deadline <= timezone.now():
            _notify_party(txn, txn.buyer, "shipping_overdue_buyer", deadline=deadline)
        return sent
