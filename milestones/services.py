"""Every change to a milestone (termin) plan. The money never moves here: it moves in each
milestone's own escrow transaction, through the ordinary services.

Proposal → acceptance → milestones opened:

* ``milestone_plan_propose`` — the seller proposes 2–10 milestones (title, amount, due date) for a
  service, with the buyer's email, who pays the fee and how the buyer pays: **up front** or
  **milestone by milestone**. The fee is computed once on the whole value and split
  (``milestones.fees``). INTRASA emails the buyer the plan's page (the seller can share it too).
* ``milestone_plan_accept`` — the buyer (the verified account of the invited email) accepts the
  whole plan once. Milestones are *opened*: each opened milestone becomes an escrow transaction
  through ``transaction_create`` (category service, the milestone's amount, its fee share) and
  ``transaction_accept`` in the same database transaction — the plan's acceptance is the buyer's
  acceptance of each milestone's terms.

  - **Up front**: every milestone is opened at acceptance and is payable at once, with **one bill**
    for all of them: whichever milestone's pay page the buyer opens, ``payments.services.payment_start``
    bills every milestone still waiting for payment together (``milestones.selectors.upfront_billed_together``,
    registered in ``milestones.apps``). The bill has a share per milestone (``payments.models.BillShare``);
    its verified payment funds each milestone's own escrow hold through ``transaction_verify``, one
    journal entry per milestone in the same database transaction. A short payment is owed back whole
    and every milestone waits for payment again; an excess is owed back with the first milestone; a
    share whose milestone was paid or closed meanwhile is owed back on that milestone. From then on
    each payment is held in its own milestone's escrow until that milestone is confirmed, and a
    refund of one milestone comes out of that milestone's hold only.
  - **Milestone by milestone**: the first milestone is opened at acceptance; the next one is
    opened (by either party, on the plan's page: ``milestone_open``) once the previous milestone
    was confirmed (or has otherwise closed), or once the previous milestone's due date has come.

* A milestone whose transaction ended unpaid (its payment window ran out, or it was cancelled
  before payment) can be opened again by either party: a new transaction takes its place on the
  plan, the old one stays closed with its own timeline.
* From there each milestone lives its own life: the seller delivers it (``transaction_ship`` with a
  delivery note), the buyer inspects, confirms (``escrow_confirm``) or disputes it, or it is
  auto-confirmed when its inspection period ends (``escrow_auto_confirm``); its payout or refund is
  its own. A dispute on one milestone freezes only that milestone's money.

Locks: the plan's row first, then its two people, seller and buyer, in primary-key order
(``_lock_parties``: opening a milestone locks the seller and writes the buyer's key), then the
transactions (``intrasa.locks``: milestone plan → person → escrow transaction).

A milestone's delivery deadline: ``shipping_days`` of its transaction are the working days from
the day it is opened to its due date (at least 1, at most 30, the transaction's own bounds), so it
is due about when the plan says, counted from its payment.
"""
import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.validators import canonical_email, mask_email
from audit.services import audit_record
from intrasa import locks
from intrasa.errors import ServiceError
from intrasa.money import check_rupiah_range, format_rupiah
from intrasa.wib import now_wib
from notifications.services import notify
from transactions import services as transaction_services
from transactions.fees import FeeQuote, FeeScheduleError
from transactions.models import Category, EscrowTransaction, FeePayerChoice, Status
from workdays.calendar import working_calendar

from .fees import plan_quote
from .models import Milestone, MilestonePlan

MIN_MILESTONES, MAX_MILESTONES = 2, 10
# Due dates lie within a year of the proposal: a plan is work agreed now, and a date years away
# (9999-12-31 was accepted) would have cost every opening a walk through the calendar to it.
MAX_DUE_DAYS = 366
# A milestone's transaction gives its seller at most this many working days to deliver.
MAX_SHIPPING_DAYS = 30
# A milestone's transaction in one of these lets the next one open (milestone by milestone).
DONE_WITH = frozenset({Status.CONFIRMED, Status.DISBURSED, Status.REFUNDED})
# A milestone whose transaction ended unpaid (the payment window ran out, or it was cancelled before
# payment) can be opened again: a new transaction replaces it on the plan; the old one stays closed.
ENDED_UNPAID = frozenset({Status.CANCELLED, Status.EXPIRED})


class MilestonePlanError(ServiceError):
    """A refused action on a milestone plan; the message is for the person who tried it."""


def _lock(plan) -> MilestonePlan:
    pk = plan.pk if isinstance(plan, MilestonePlan) else plan
    return locks.lock(MilestonePlan, pk, related=("seller", "buyer"))


def _lock_parties(plan: MilestonePlan, buyer_id) -> None:
    """Lock the plan's two people (after the plan, before its transactions: ``intrasa.locks``), in
    primary-key order. Opening a milestone locks its seller (``transaction_create``: the daily
    count) and writes its buyer's key (a share lock on the buyer's row); were the seller locked first
    each time, A accepting B's plan while B accepts A's would deadlock. Both at once, in one order,
    they queue."""
    locks.lock_all(User.objects.filter(pk__in={plan.seller_id, buyer_id}))


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise MilestonePlanError(_("Please give a reason."), code="reason_required")
    return reason


def milestone_plan_propose(*, seller, buyer_email: str, title: str, description: str, fee_payer: str,
                           payment_schedule: str, inspection_days: int, milestones: list[dict]) -> MilestonePlan:
    """The seller proposes the plan; ``milestones`` are dicts of ``title``, ``amount``, ``due_date``."""
    if User.objects.filter(pk=seller.pk, email_verified_at__isnull=True).exists():
        raise MilestonePlanError(_("Verify your email address before you propose a plan: INTRASA starts "
                                   "transactions in your name."), code="email_unverified")
    buyer_email = canonical_email(buyer_email)
    if not buyer_email:
        raise MilestonePlanError(_("Give the buyer's email address."), code="buyer_contact_required")
    if buyer_email == canonical_email(seller.email):
        raise MilestonePlanError(_("You cannot invite yourself as the buyer."), code="self_dealing")
    if payment_schedule not in MilestonePlan.Schedule.values or fee_payer not in FeePayerChoice.values:
        raise MilestonePlanError(_("Choose how the buyer pays and who pays the fee."), code="invalid_choice")
    if not 1 <= inspection_days <= settings.INTRASA_INSPECTION_DAYS_MAX:
        raise MilestonePlanError(_("The inspection period must be between 1 and %(max)d working days.")
                                 % {"max": settings.INTRASA_INSPECTION_DAYS_MAX}, code="invalid_inspection")
    if not MIN_MILESTONES <= len(milestones) <= MAX_MILESTONES:
        raise MilestonePlanError(_("A plan has from %(min)d to %(max)d milestones.")
                                 % {"min": MIN_MILESTONES, "max": MAX_MILESTONES}, code="milestone_count")
    today = now_wib().date()
    amounts, previous_due = [], today
    for item in milestones:
        if not check_rupiah_range(item["amount"], minimum=settings.INTRASA_MIN_TRANSACTION_AMOUNT,
                                  maximum=settings.INTRASA_MAX_TRANSACTION_AMOUNT):
            raise MilestonePlanError(_("Each milestone's amount must be between %(min)s and %(max)s.") % {
                "min": format_rupiah(settings.INTRASA_MIN_TRANSACTION_AMOUNT),
                "max": format_rupiah(settings.INTRASA_MAX_TRANSACTION_AMOUNT)}, code="amount_out_of_range")
        if not isinstance(item["due_date"], dt.date) or item["due_date"] < previous_due:
            raise MilestonePlanError(_("Due dates must be today or later, each on or after the one before."),
                                     code="invalid_due_date")
        if (item["due_date"] - today).days > MAX_DUE_DAYS:
            raise MilestonePlanError(_("Due dates must be within a year from today."), code="invalid_due_date")
        if not (item.get("title") or "").strip():
            raise MilestonePlanError(_("Give every milestone a title."), code="title_required")
        previous_due = item["due_date"]
        amounts.append(item["amount"])
    if sum(amounts) > settings.INTRASA_MAX_TRANSACTION_AMOUNT:
        raise MilestonePlanError(_("The milestones together can be at most %(max)s.")
                                 % {"max": format_rupiah(settings.INTRASA_MAX_TRANSACTION_AMOUNT)},
                                 code="amount_out_of_range")
    try:
        quote = plan_quote(amounts=amounts, fee_payer=fee_payer)
    except FeeScheduleError as exc:
        raise MilestonePlanError(str(exc), code="fee") from exc
    if any(part.seller_fee >= part.value for part in quote.parts):
        raise MilestonePlanError(_("A milestone is too small for its share of the seller's fee."), code="fee")
    with transaction.atomic():
        plan = MilestonePlan.objects.create(
            seller=seller, buyer_email=buyer_email, title=" ".join(title.split()), description=description.strip(),
            fee_payer=fee_payer, payment_schedule=payment_schedule, inspection_days=inspection_days,
            total=quote.whole.value, fee_amount=quote.whole.fee, buyer_fee=quote.whole.buyer_fee,
            seller_fee=quote.whole.seller_fee)
        Milestone.objects.bulk_create([
            Milestone(plan=plan, position=index, title=" ".join(item["title"].split())[:120], amount=part.price,
                      due_date=item["due_date"], fee_amount=part.fee, buyer_fee=part.buyer_fee,
                      seller_fee=part.seller_fee)
            for index, (item, part) in enumerate(zip(milestones, quote.parts, strict=True), start=1)])
        notify(event_key=f"plan:{plan.token}:proposed", kind="milestone_plan_proposed", email=buyer_email,
               context={"seller": seller.full_name, "title": plan.title, "count": len(milestones),
                        "amount": format_rupiah(plan.buyer_pays)},
               link=plan.get_absolute_url())
        audit_record(actor=seller, action="milestone_plan.propose", target=plan,
                     data={"total": plan.total, "fee": plan.fee_amount, "milestones": len(milestones),
                           "schedule": payment_schedule})
        return plan


def milestone_plan_refusal(*, plan: MilestonePlan, user) -> tuple[str, str] | None:
    """Why ``user`` may not accept or decline the plan, as ``(code, message)``; ``None`` when they may.
    Only the verified account of the email the seller named may (as for an invitation by email)."""
    if plan.status != MilestonePlan.Status.PROPOSED:
        return "not_open", _("This plan is no longer waiting for an answer.")
    if user.pk == plan.seller_id:
        return "seller", _("This is your own plan: share its page with the buyer.")
    if canonical_email(user.email) != plan.buyer_email:
        return "not_addressee", _("This plan was proposed to %(email)s, and only that account can accept or "
                                  "decline it.") % {"email": mask_email(plan.buyer_email)}
    if user.email_verified_at is None:
        return "email_unverified", _("Verify your email address first: open the link we emailed to %(email)s, "
                                     "or send yourself a new one from your profile page.") % {"email": user.email}
    return None


def _open(plan: MilestonePlan, milestone: Milestone) -> EscrowTransaction:
    """Make ``milestone`` an escrow transaction the buyer has accepted (inside the caller's atomic
    block, the plan locked)."""
    count = plan.milestones.count()
    today = now_wib().date()
    shipping_days = max(1, working_calendar().working_days_between(today, milestone.due_date,
                                                                   at_most=MAX_SHIPPING_DAYS))
    quote = FeeQuote(milestone.amount, 0, milestone.fee_amount, milestone.buyer_fee, milestone.seller_fee)
    label = _("Milestone %(number)d of %(count)d") % {"number": milestone.position, "count": count}
    try:
        txn = transaction_services.transaction_create(
            seller=plan.seller, title=f"{plan.title[:100]} · {milestone.position}/{count}: {milestone.title}"[:150],
            description=f"{label}: {milestone.title}\n\n{plan.description}", category=Category.SERVICE,
            price=milestone.amount, shipping_cost=0, fee_payer=plan.fee_payer, inspection_days=plan.inspection_days,
            shipping_days=shipping_days, buyer_email=plan.buyer_email, send_invitation=False, quote=quote)
        txn = transaction_services.transaction_accept(escrow_transaction=txn, buyer=plan.buyer)
    except transaction_services.TransactionActionError as exc:
        if exc.code == "daily_limit":  # the seller's limit, met while the buyer accepts or the plan moves on
            raise MilestonePlanError(_(
                "The seller has started as many transactions today as one account may (%(limit)d), "
                "milestones included. This milestone can open from tomorrow (00.00 WIB).")
                % {"limit": settings.INTRASA_INVITATIONS_PER_DAY}, code=exc.code) from exc
        raise MilestonePlanError(exc.message, code=exc.code) from exc
    transaction_services.transaction_record_event(
        txn, action="milestone_plan", actor=plan.buyer, role="buyer",
        data={"plan": plan.token, "milestone": milestone.position, "of": count})
    milestone.escrow_transaction = txn
    milestone.save(update_fields=["escrow_transaction"])
    return txn


def milestone_plan_accept(*, plan, buyer) -> MilestonePlan:
    """The buyer accepts the whole plan once; milestones open as the payment schedule says."""
    buyer = User.objects.get(pk=buyer.pk)  # as committed: an email verified in another tab counts
    with transaction.atomic():
        plan = _lock(plan)
        if plan.buyer_id == buyer.pk:
            return plan  # accepting twice changes nothing
        _lock_parties(plan, buyer.pk)
        refusal = milestone_plan_refusal(plan=plan, user=buyer)
        if refusal is not None:
            raise MilestonePlanError(refusal[1], code=refusal[0])
        plan.accept()
        plan.buyer, plan.accepted_at = buyer, timezone.now()
        plan.save()
        milestones = list(plan.milestones.order_by("position"))
        to_open = milestones if plan.payment_schedule == MilestonePlan.Schedule.UPFRONT else milestones[:1]
        for milestone in to_open:
            _open(plan, milestone)
        audit_record(actor=buyer, action="milestone_plan.accept", target=plan,
                     data={"opened": [m.position for m in to_open]})
        return plan


def milestone_plan_decline(*, plan, user, reason: str) -> MilestonePlan:
    reason = _require_reason(reason)
    with transaction.atomic():
        plan = _lock(plan)
        refusal = milestone_plan_refusal(plan=plan, user=User.objects.get(pk=user.pk))
        if refusal is not None:
            raise MilestonePlanError(refusal[1], code=refusal[0])
        plan.decline()
        plan.closed_at = timezone.now()
        plan.save()
        audit_record(actor=user, action="milestone_plan.decline", target=plan, reason=reason)
        return plan


def milestone_plan_cancel(*, plan, seller, reason: str) -> MilestonePlan:
    reason = _require_reason(reason)
    with transaction.atomic():
        plan = _lock(plan)
        if plan.seller_id != seller.pk:
            raise MilestonePlanError(_("Only the seller can withdraw the plan."), code="forbidden")
        if plan.status != MilestonePlan.Status.PROPOSED:
            raise MilestonePlanError(_("The buyer has already answered; cancel each open milestone instead."),
                                     code="not_open")
        plan.cancel()
        plan.closed_at = timezone.now()
        plan.save()
        audit_record(actor=seller, action="milestone_plan.cancel", target=plan, reason=reason)
        return plan


def milestone_plans_anonymise(*, plan_ids, text: str) -> int:
    """Replace what people wrote on these plans — the buyer's email address, the title, the
    description and the milestones' titles — with ``text`` (the address with nothing). Called by the
    retention job (``milestones.privacy_export.purge``, rows locked) and by account erasure for plans
    that never became transactions (``milestones.privacy_export.erase``). Amounts, dates, the status
    and the link to each milestone's transaction stay."""
    count = MilestonePlan.objects.filter(pk__in=plan_ids).update(buyer_email="", title=text, description=text)
    Milestone.objects.filter(plan_id__in=plan_ids).update(title=text)
    return count


def milestone_open_refusal(*, plan: MilestonePlan, milestone: Milestone, previous: Milestone | None,
                           today: dt.date | None = None) -> str | None:
    """Why the milestone cannot be opened now (a message), or ``None``."""
    if plan.status != MilestonePlan.Status.ACCEPTED:
        return _("The buyer has not accepted the plan.")
    if not plan.buyer_email:
        # Emptied by the retention job (the plan went with its transactions' records) or by the buyer's
        # erasure: a milestone would open as a transaction for nobody (``_open``).
        return _("This plan has ended: the buyer's details are no longer kept, so no milestone can be opened.")
    current = milestone.escrow_transaction
    if current is not None and current.status not in ENDED_UNPAID:
        return _("This milestone is already open.")
    if previous is None or plan.payment_schedule == MilestonePlan.Schedule.UPFRONT:
        return None  # the first, or an up-front milestone whose transaction ended unpaid: open it again
    today = today or now_wib().date()
    previous_txn = previous.escrow_transaction
    previous_status = previous_txn.status if previous_txn is not None else None
    if previous_status in DONE_WITH or (previous_status is not None and today >= previous.due_date):
        return None
    return _("Milestone %(number)d opens when the one before it is confirmed, or on %(date)s.") % {
        "number": milestone.position, "date": previous.due_date.strftime("%d-%m-%Y")}


def milestone_open(*, plan, position: int, actor) -> EscrowTransaction:
    """Milestone by milestone: open the next milestone for payment (either party may; ``actor``
    ``None`` is the periodic job ``milestones.tasks.open_due_milestones``)."""
    with transaction.atomic():
        plan = _lock(plan)
        if actor is not None and plan.role_of(actor) is None:
            raise MilestonePlanError(_("You are not allowed to do this on this plan."), code="forbidden")
        milestones = {m.position: m for m in plan.milestones.select_related("escrow_transaction")}
        milestone = milestones.get(position)
        if milestone is None:
            raise MilestonePlanError(_("This plan has no such milestone."), code="unknown")
        refusal = milestone_open_refusal(plan=plan, milestone=milestone, previous=milestones.get(position - 1))
        if refusal is not None:
            raise MilestonePlanError(refusal, code="not_openable")
        _lock_parties(plan, plan.buyer_id)
        txn = _open(plan, milestone)
        audit_record(actor=actor, action="milestone_plan.open", target=plan,
                     data={"milestone": position, "reference": txn.reference})
        return txn


def milestones_due_to_open(*, today: dt.date | None = None) -> list[tuple[int, int]]:
    """``(plan id, position)`` of the milestones (milestone by milestone) that may open now and are
    not open: the periodic job opens them, so the buyer is asked to pay without anyone clicking."""
    today = today or now_wib().date()
    candidates = (Milestone.objects.filter(plan__status=MilestonePlan.Status.ACCEPTED,
                                           plan__payment_schedule=MilestonePlan.Schedule.PER_MILESTONE,
                                           escrow_transaction__isnull=True)
                  .select_related("plan").order_by("plan_id", "position"))
    due, seen = [], set()
    for milestone in candidates:
        if milestone.plan_id in seen:
            continue  # one at a time: the next waits for this one
        seen.add(milestone.plan_id)
        previous = (Milestone.objects.select_related("escrow_transaction")
                    .filter(plan_id=milestone.plan_id, position=milestone.position - 1).first())
        if milestone_open_refusal(plan=milestone.plan, milestone=milestone, previous=previous, today=today) is None:
            due.append((milestone.plan_id, milestone.position))
    return due
