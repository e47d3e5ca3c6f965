"""The public read model: what anyone may learn about a transaction or a payment code.

Cek Transaksi is open to the world, so the rule "no personal data" is enforced by construction,
not by template discipline: the selectors load only the columns they need (``only()``, never the
seller, the buyer, the title or the description, which a seller may fill with names and
addresses) and return small frozen dataclasses that have no field for a name, an email, a phone
number, an address or an account number. Templates and the JSON API never see a model instance.
Timeline entries carry the step and the time, never the free-text reason or the actor.

Costs: a transaction look-up is a constant number of queries whatever its history — the
transaction, its timeline and the working-day calendar for a computed deadline; for a refunded (or
expired or cancelled) one also its ledger balances and, while its refund is owed, its open refund requests with their
documents (and the buyer's default account when a request names none: ``refunds.selectors``) — and
none when ``pages.public_cache`` has its facts; plus one for a milestone of a plan (its neighbours'
statuses, never cached). A payment-code look-up is one.
"""
import datetime as dt
import functools
import json
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Case, JSONField, Prefetch, When
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from disbursements.rules import PAYOUT_PROMISE_WORKING_HOURS  # FAQ 1×24: one number, the queue's and Cek's
from intrasa.wib import to_wib
from ledger.models import AccountCategory
from ledger.selectors import transaction_balances
from payments.channels import channel_get
from payments.models import Bill
from refunds.policy import RefundClock
from refunds.selectors import latest_refund_due_by, refund_clocks
from transactions.fees import tier_fee
from transactions.models import (
    ACTION_LABELS,
    AWAITING_ACCEPTANCE,
    CLOSED_STATES,
    EscrowTransaction,
    FeeTier,
    Status,
    TransactionEvent,
)
from transactions.references import ReferenceStatus, normalize_reference, parse_reference
from workdays.calendar import working_calendar

# A refunded transaction's date (or a closed unfunded one's that owes a payment back) is when its refunds
# reach the buyer: ``refunds.policy.refund_reaches_buyer_by`` over the clocks of its open refunds
# (``refunds.selectors.refund_clocks``), the same date the refund page, the refund emails and the refund
# receipt show. The clocks are public facts (no personal data: a step, a
# time and a payment method), so the date follows the working-day calendar and the time of the look-up.

# Closed statuses in which the buyer's refund is the transaction's only dated step: refunded, and closed
# without being funded (a payment that arrived after it expired or was cancelled is owed back whole).
REFUND_DUE_STATUSES = frozenset({Status.REFUNDED, Status.EXPIRED, Status.CANCELLED})

# Only the columns the public view needs; touching any other field would cost a query and is a bug.
_PUBLIC_FIELDS = (
    "id", "reference", "status", "amount_due", "accepted_at", "created_at",
    "invitation_expires_at", "payment_due_at", "paid_at", "verified_at", "shipping_deadline",
    "shipped_at", "inspection_ends_at", "confirmed_at", "closed_at",
)
_EVENT_FIELDS = ("id", "escrow_transaction_id", "action", "to_status", "created_at")


@dataclass(frozen=True)
class PublicStep:
    step: str  # the action's code, e.g. "verify"
    label: str
    at: dt.datetime


@dataclass(frozen=True)
class PublicDeadline:
    step: str  # what is due: "accept", "pay", "ship", "confirm", "payout", "refund"
    label: str
    at: dt.datetime


@dataclass(frozen=True)
class PublicTransaction:
    """A transaction as the public may see it. No field can hold personal data."""

    reference: str
    status: str
    status_label: str
    amount: int  # what the buyer pays into escrow, whole Rupiah
    payment_received: bool
    payment_verified: bool
    is_closed: bool
    timeline: tuple[PublicStep, ...]
    next_due: PublicDeadline | None
    plan: "PublicPlan | None" = None  # the milestone plan, when the transaction is one of its milestones

    def as_json(self) -> dict:
        """The JSON of ``/api/cek-transaksi/<reference>/`` (documented in the README)."""
        return {
            "reference": self.reference,
            "status": self.status,
            "status_label": self.status_label,
            "amount": self.amount,
            "currency": "IDR",
            "payment_received": self.payment_received,
            "payment_verified": self.payment_verified,
            "closed": self.is_closed,
            "timeline": [{"step": s.step, "label": s.label, "at": _iso(s.at)} for s in self.timeline],
            "next_due": ({"step": self.next_due.step, "label": self.next_due.label,
                          "at": _iso(self.next_due.at)} if self.next_due else None),
            "milestone": ({"number": self.plan.number, "of": self.plan.count,
                           "milestones": [{"number": m.number, "status": m.status, "status_label": m.status_label}
                                          for m in self.plan.milestones]} if self.plan else None),
        }


@dataclass(frozen=True)
class PublicMilestone:
    number: int
    status: str  # "" while the milestone is not open for payment yet
    status_label: str


@dataclass(frozen=True)
class PublicPlan:
    """Where a milestone transaction stands in its plan: "Milestone 2 of 3", each milestone's
    status and the plan's page (which shows its terms only to its two parties). No names, titles or
    amounts: a seller may have put personal data in a milestone's title."""

    number: int
    count: int
    url: str
    milestones: tuple[PublicMilestone, ...]


def _iso(value: dt.datetime) -> str:
    return to_wib(value).isoformat()


class LookupOutcome:
    FOUND = "found"
    MALFORMED = "malformed"  # not shaped like a reference at all
    MISTYPED = "mistyped"  # shaped like one, but the check character fails: a typo
    UNKNOWN = "unknown"  # a valid reference that no transaction has


@dataclass(frozen=True)
class TransactionLookup:
    outcome: str
    reference: str = ""
    transaction: PublicTransaction | None = None


# Timeline steps shown publicly: events that changed the status, plus the buyer's acceptance.
# Reminders and staff notes stay private; new actions other apps add appear once they change status.
_PUBLIC_NON_STATE_ACTIONS = {"accepted"}
# The event a milestone plan writes on each milestone's timeline as it opens it (``milestones.services``).
PLAN_EVENT = "milestone_plan"


def _public_step(action: str, to_status: str, at: dt.datetime) -> PublicStep:
    known = ACTION_LABELS.get(action)
    if known is not None:
        label = str(known)
    else:
        label = str(Status(to_status).label) if to_status in Status.values else action
    return PublicStep(step=action, label=label, at=at)


@dataclass(frozen=True)
class PublicFacts:
    """What the public view of a transaction is computed from: its public columns, its public
    timeline and one ledger fact, with no label and no language. ``pages.public_cache`` keeps these
    (JSON) in Redis; labels, translations and computed deadlines are made per request from them,
    so a cached entry serves every language and follows a change of the working-day calendar."""

    reference: str
    status: str
    amount: int
    paid: bool
    verified: bool
    accepted_at: dt.datetime | None
    invitation_expires_at: dt.datetime | None
    payment_due_at: dt.datetime | None
    shipping_deadline: dt.datetime | None
    inspection_ends_at: dt.datetime | None
    confirmed_at: dt.datetime | None
    closed_at: dt.datetime | None
    refund_payable: bool  # the buyer's refund is still owed (ledger), for a refunded, expired or cancelled one
    events: tuple[tuple[str, str, dt.datetime], ...]  # public steps: (action, to_status, at)
    # A milestone of a plan: the plan's token, the milestone's number and the plan's count (never change).
    plan_token: str = ""
    milestone_number: int | None = None
    milestone_count: int | None = None
    # Where each open refund of such a transaction stands (``refunds.policy.RefundClock``).
    refund_clocks: tuple[RefundClock, ...] = ()

    _TIMES = ("accepted_at", "invitation_expires_at", "payment_due_at", "shipping_deadline",
              "inspection_ends_at", "confirmed_at", "closed_at")

    def to_json(self) -> str:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "events"}
        data.update({name: (data[name].isoformat() if data[name] else None) for name in self._TIMES})
        data["events"] = [[action, to_status, at.isoformat()] for action, to_status, at in self.events]
        data["refund_clocks"] = [[clock.since.isoformat(), list(clock.steps), clock.family]
                                 for clock in self.refund_clocks]
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> "PublicFacts":
        """The facts of ``text`` (``to_json``). Every cached look-up parses the same few texts again:
        parsed once per process per distinct text (bounded), the object being immutable (frozen,
        tuples, datetimes) and a function of the text alone."""
        if cls is PublicFacts:
            return _facts_of_json(text)
        return cls._parse(text)

    @classmethod
    def _parse(cls, text: str | bytes) -> "PublicFacts":
        data = json.loads(text)
        for name in cls._TIMES:
            data[name] = dt.datetime.fromisoformat(data[name]) if data[name] else None
        data["events"] = tuple((action, to_status, dt.datetime.fromisoformat(at))
                               for action, to_status, at in data["events"])
        data["refund_clocks"] = tuple(RefundClock(dt.datetime.fromisoformat(since), tuple(steps), family)
                                      for since, steps, family in data.get("refund_clocks", ()))
        return cls(**data)


@functools.lru_cache(maxsize=4096)
def _facts_of_json(text: str | bytes) -> PublicFacts:
    return PublicFacts._parse(text)


def _next_due(facts: PublicFacts, calendar=None) -> PublicDeadline | None:
    """The next step that has a date, and the date by which it is due."""
    status = facts.status
    if status == Status.CREATED:
        if facts.accepted_at is None:
            if facts.invitation_expires_at is None:
                return None
            return PublicDeadline("accept", str(_("The buyer accepts the invitation by")),
                                  facts.invitation_expires_at)
        if facts.payment_due_at:
            return PublicDeadline("pay", str(_("The buyer pays by")), facts.payment_due_at)
    elif status == Status.VERIFIED and facts.shipping_deadline:
        return PublicDeadline("ship", str(_("The seller ships by")), facts.shipping_deadline)
    elif status == Status.SHIPPED and facts.inspection_ends_at:
        return PublicDeadline("confirm", str(_("The buyer confirms receipt by (otherwise confirmed "
                                               "automatically)")), facts.inspection_ends_at)
    elif status == Status.CONFIRMED and facts.confirmed_at:
        calendar = calendar or working_calendar()
        due = calendar.add_working_hours(_released_at(facts.events, facts.confirmed_at),
                                         PAYOUT_PROMISE_WORKING_HOURS)
        return PublicDeadline("payout", str(_("The seller is paid out by")), due)
    elif status in REFUND_DUE_STATUSES and facts.refund_payable and facts.refund_clocks:
        due = latest_refund_due_by(facts.refund_clocks, calendar=calendar or working_calendar())
        return PublicDeadline("refund", str(_("The refund reaches the buyer's own bank account or e-wallet "
                                              "by")), due)
    # Paid (verification runs by itself), disputed (no date until the parties agree or staff
    # decide) and closed transactions have no dated next step.
    return None


# A payout the bank gave back reopens the transaction (disbursed → confirmed) without a new promise.
_REOPENED_WITHOUT_A_RELEASE = {"payout_given_back"}


def _released_at(events, confirmed_at: dt.datetime) -> dt.datetime:
    """When the seller's money was last released (the transaction last became confirmed): the seller's
    payout promise counts from then (``disbursements.services.payout_plan``). Usually the buyer's
    confirmation; after an upheld rejection of returned goods, the release of the rest (a second payout),
    while ``confirmed_at`` keeps the first confirmation."""
    released = [at for action, to_status, at in events
                if to_status == Status.CONFIRMED and action not in _REOPENED_WITHOUT_A_RELEASE]
    return released[-1] if released else confirmed_at


def public_reference(text: str) -> tuple[str, str]:
    """``(outcome, reference)``: FOUND-to-be-looked-up with the canonical reference, or why not.
    Kept per process for text as long as a reference can be typed (``_KEPT_LENGTH``): the same
    references are looked up again and again, and parsing one cost Cek Transaksi ~30 µs a request once
    other requests had run between (``benchmarks/README.md``). Longer text (the JSON API takes any path
    segment) is parsed every time: kept, it could fill the process's memory."""
    if len(text) <= _KEPT_LENGTH:
        return _kept_public_reference(text)
    return _public_reference(text)


_KEPT_LENGTH = 40  # ReferenceForm's max_length


def _public_reference(text: str) -> tuple[str, str]:
    status, reference = parse_reference(text)
    if status == ReferenceStatus.MALFORMED:
        return LookupOutcome.MALFORMED, ""
    if status == ReferenceStatus.CHECK_FAILED:
        return LookupOutcome.MISTYPED, ""
    assert reference is not None  # parse_reference: a VALID status always carries the reference
    return LookupOutcome.FOUND, reference


_kept_public_reference = functools.lru_cache(maxsize=4096)(_public_reference)


# The ledger accounts whose balances the public facts read (``public_facts``). An entry touching none of
# them cannot change what Cek Transaksi shows, so posting it forgets nothing (``pages.public_cache``):
# read another category here and it must be added to this set.
LEDGER_CATEGORIES_READ = frozenset({AccountCategory.BUYER_REFUND_PAYABLE})


def public_facts(*, reference: str) -> PublicFacts | None:
    """The facts of the transaction with this (canonical) reference, from the database: two
    queries (the transaction, its timeline); a refunded, expired or cancelled one adds its ledger
    balances and, while a refund is owed, its open refund requests with their documents (and the
    buyer's default account when a request names none)."""
    events = TransactionEvent.objects.only(*_EVENT_FIELDS).order_by("created_at", "id")
    # The plan's event brings its data along (only that event's: the others' stays in the database).
    events = events.annotate(plan_data=Case(When(action=PLAN_EVENT, then="data"), output_field=JSONField()))
    txn = (EscrowTransaction.objects.only(*_PUBLIC_FIELDS)
           .prefetch_related(Prefetch("events", queryset=events, to_attr="public_events"))
           .filter(reference=reference).first())
    if txn is None:
        return None
    refund_payable, clocks = False, []
    if txn.status in REFUND_DUE_STATUSES and txn.closed_at:
        balances = transaction_balances(escrow_transaction=txn)
        refund_payable = balances.get(AccountCategory.BUYER_REFUND_PAYABLE, 0) > 0  # LEDGER_CATEGORIES_READ
        if refund_payable:
            clocks = refund_clocks(escrow_transaction=txn)
    return PublicFacts(
        reference=txn.reference, status=txn.status, amount=txn.amount_due, paid=txn.paid_at is not None,
        verified=txn.verified_at is not None, accepted_at=txn.accepted_at,
        invitation_expires_at=txn.invitation_expires_at, payment_due_at=txn.payment_due_at,
        shipping_deadline=txn.shipping_deadline, inspection_ends_at=txn.inspection_ends_at,
        confirmed_at=txn.confirmed_at, closed_at=txn.closed_at, refund_payable=refund_payable,
        refund_clocks=tuple(clocks),
        events=tuple((e.action, e.to_status, e.created_at) for e in txn.public_events
                     if e.to_status or e.action in _PUBLIC_NON_STATE_ACTIONS),
        **_milestone_facts(txn),
    )


def _milestone_facts(txn) -> dict:
    """A milestone's place in its plan, from the timeline event the plan wrote when it opened the
    milestone (``milestones.services``: plan token, number, count) — pages sits below milestones
    (DESIGN.md §2), and the timeline is the transaction's own record of it."""
    for event in txn.public_events:
        data = event.plan_data or {}
        if isinstance(data.get("plan"), str) and isinstance(data.get("milestone"), int) \
                and isinstance(data.get("of"), int):
            return {"plan_token": data["plan"], "milestone_number": data["milestone"], "milestone_count": data["of"]}
    return {}


def public_plan(facts: PublicFacts) -> PublicPlan | None:
    """The plan of a milestone transaction, with every milestone's current status: one query, only
    for a milestone (never cached with the facts: a neighbour's change would not refresh them). A
    milestone opened again after its transaction ended unpaid shows its newest transaction."""
    if not facts.plan_token or facts.milestone_number is None or facts.milestone_count is None:
        return None
    rows = (EscrowTransaction.objects.filter(events__action=PLAN_EVENT, events__data__plan=facts.plan_token)
            .order_by("created_at", "pk").values_list("events__data__milestone", "status", "accepted_at"))
    current = {number: (status, accepted_at) for number, status, accepted_at in rows}
    milestones = []
    for number in range(1, facts.milestone_count + 1):
        if number not in current:
            milestones.append(PublicMilestone(number, "", str(_("Not open for payment yet"))))
            continue
        status, accepted_at = current[number]
        label = (str(AWAITING_ACCEPTANCE) if status == Status.CREATED and accepted_at is None
                 else str(Status(status).label))
        milestones.append(PublicMilestone(number, status, label))
    return PublicPlan(number=facts.milestone_number, count=facts.milestone_count,
                      url=reverse("milestones:detail", kwargs={"token": facts.plan_token}),
                      milestones=tuple(milestones))


def _public_status_label(facts: PublicFacts) -> str:
    """Before the buyer accepts, the transaction waits for the buyer, not for a payment."""
    if facts.status == Status.CREATED and facts.accepted_at is None:
        return str(AWAITING_ACCEPTANCE)
    return str(Status(facts.status).label)


def public_transaction(facts: PublicFacts, calendar=None, plan: PublicPlan | None = None) -> PublicTransaction:
    """The public view of ``facts``, in the active language (no query). ``calendar``: the
    working-day calendar when the caller has it already (else loaded when a deadline needs it);
    ``plan``: a milestone's plan (``public_plan``)."""
    return PublicTransaction(
        reference=facts.reference, status=facts.status, status_label=_public_status_label(facts),
        amount=facts.amount, payment_received=facts.paid, payment_verified=facts.verified,
        is_closed=facts.status in CLOSED_STATES,
        timeline=tuple(_public_step(action, to_status, at) for action, to_status, at in facts.events),
        next_due=_next_due(facts, calendar), plan=plan,
    )


def public_transaction_lookup(*, text: str) -> TransactionLookup:
    """Look a reference up for Cek Transaksi, telling a typo apart from an unknown reference."""
    outcome, reference = public_reference(text)
    if outcome != LookupOutcome.FOUND:
        return TransactionLookup(outcome)
    facts = public_facts(reference=reference)
    if facts is None:
        return TransactionLookup(LookupOutcome.UNKNOWN, reference=reference)
    return TransactionLookup(LookupOutcome.FOUND, reference=reference,
                             transaction=public_transaction(facts, plan=public_plan(facts)))


# --- "Is this payment instruction really INTRASA's?" ------------------------------------------

class PaymentCheckOutcome:
    LIVE_BILL = "live_bill"  # an open bill has this virtual account number / payment code
    LIVE_TRANSACTION = "live_transaction"  # a reference of a transaction that is not closed
    CLOSED_TRANSACTION = "closed_transaction"  # a real reference, but nothing may be paid into it
    ESCROW_ACCOUNT = "escrow_account"  # INTRASA's own escrow bank account (bank transfer)
    # A real INTRASA number that takes no payment any more. None of these says "do not pay" as a
    # warning against fraud: the number was genuine; it is paid, ran out, or was closed.
    PAID_BILL = "paid_bill"  # the bill was paid (the buyer may be checking their own payment)
    EXPIRED_BILL = "expired_bill"  # its time ran out unpaid
    CLOSED_BILL = "closed_bill"  # cancelled: another method was chosen or the transaction was closed
    MISTYPED = "mistyped"
    NOT_FOUND = "not_found"
    EMPTY = "empty"


@dataclass(frozen=True)
class PaymentCheck:
    """The answer of the payment check. Like ``PublicTransaction``, it has no personal fields; the
    reference is masked to its last group so that a payment code does not lead to a reference."""

    outcome: str
    masked_reference: str = ""
    amount: int | None = None
    pay_before: dt.datetime | None = None
    channel: str = ""
    status_label: str = ""
    bank_name: str = ""
    bank_account: str = ""
    bank_holder: str = ""
    paid_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None  # when an expired or closed number stopped taking payments

    @property
    def is_live(self) -> bool:
        return self.outcome in (PaymentCheckOutcome.LIVE_BILL, PaymentCheckOutcome.LIVE_TRANSACTION,
                                PaymentCheckOutcome.ESCROW_ACCOUNT)

    @property
    def counts_as_unknown(self) -> bool:
        """Answers that a guesser gets; they count against ``intrasa.ratelimit.PUBLIC_UNKNOWN``."""
        return self.outcome == PaymentCheckOutcome.NOT_FOUND


def mask_reference(reference: str) -> str:
    return f"INT-••••-••••-{reference[-4:]}"


def _digits(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace() and ch not in "-.")


# The only bill states whose number people may still pay to.
LIVE_BILL_STATUSES = frozenset({Bill.Status.CREATING, Bill.Status.PENDING})


def payment_instruction_check(*, text: str) -> PaymentCheck:
    """Does ``text`` (a virtual account number, a payment code or a reference) belong to a live
    INTRASA payment? One query at most."""
    code = _digits(text or "")
    if not code:
        return PaymentCheck(PaymentCheckOutcome.EMPTY)
    if code == settings.INTRASA_ESCROW_BANK_ACCOUNT:
        return PaymentCheck(PaymentCheckOutcome.ESCROW_ACCOUNT, bank_name=settings.INTRASA_ESCROW_BANK_NAME,
                            bank_account=settings.INTRASA_ESCROW_BANK_ACCOUNT,
                            bank_holder=settings.INTRASA_ESCROW_BANK_HOLDER)
    if normalize_reference(code).startswith("INT"):
        status, reference = parse_reference(code)
        if status == ReferenceStatus.VALID:
            txn = (EscrowTransaction.objects.only("id", "reference", "status", "amount_due", "accepted_at")
                   .filter(reference=reference).first())
            if txn is None:
                return PaymentCheck(PaymentCheckOutcome.NOT_FOUND)
            outcome = (PaymentCheckOutcome.CLOSED_TRANSACTION if txn.status in CLOSED_STATES
                       else PaymentCheckOutcome.LIVE_TRANSACTION)
            return PaymentCheck(outcome, masked_reference=mask_reference(txn.reference), amount=txn.amount_due,
                                status_label=(str(AWAITING_ACCEPTANCE) if txn.status == Status.CREATED
                                              and txn.accepted_at is None else str(Status(txn.status).label)))
        if status == ReferenceStatus.CHECK_FAILED:
            return PaymentCheck(PaymentCheckOutcome.MISTYPED)
    # The newest bill with this number, whatever its state: a paid, expired or closed number is
    # still INTRASA's, and is answered as such (a bill that could not be created never had one).
    bill = (Bill.objects.filter(pay_code=code).exclude(status=Bill.Status.FAILED)
            .select_related("escrow_transaction")
            .only("id", "status", "channel_code", "amount", "expires_at", "paid_at", "cancelled_at",
                  "reversal_booked_at", "escrow_transaction__reference", "escrow_transaction__status")
            .order_by("-created_at").first())
    if bill is None:
        return PaymentCheck(PaymentCheckOutcome.NOT_FOUND)
    channel = channel_get(bill.channel_code)
    facts = {"masked_reference": mask_reference(bill.escrow_transaction.reference), "amount": bill.amount,
             "channel": channel.name if channel else ""}
    if bill.status in (Bill.Status.PAID, Bill.Status.VERIFIED):
        return PaymentCheck(PaymentCheckOutcome.PAID_BILL, paid_at=bill.paid_at, **facts)
    if bill.status == Bill.Status.CANCELLED:
        return PaymentCheck(PaymentCheckOutcome.CLOSED_BILL, ended_at=bill.cancelled_at, **facts)
    if bill.status == Bill.Status.REVERSED:  # paid, then taken back by Faspay: never to be paid again
        return PaymentCheck(PaymentCheckOutcome.CLOSED_BILL, ended_at=bill.reversal_booked_at, **facts)
    if bill.status == Bill.Status.EXPIRED or bill.expires_at <= timezone.now():
        return PaymentCheck(PaymentCheckOutcome.EXPIRED_BILL, ended_at=bill.expires_at, **facts)
    if bill.status in LIVE_BILL_STATUSES:
        return PaymentCheck(PaymentCheckOutcome.LIVE_BILL, pay_before=bill.expires_at, **facts)
    # A status added later is never told to people as payable by default.
    return PaymentCheck(PaymentCheckOutcome.CLOSED_BILL, ended_at=bill.expires_at, **facts)


# --- Biaya Layanan ------------------------------------------------------------------------------

@dataclass(frozen=True)
class FeeRow:
    """One line of the public fee table."""

    min_amount: int
    max_amount: int | None
    flat_fee: int
    percent: str  # "0,5" in Bahasa Indonesia, "0.5" in English; "" when the tier has no percentage
    minimum_fee: int
    maximum_fee: int | None


def fee_schedule() -> list[FeeTier]:
    """The fee schedule in force, in one query."""
    return list(FeeTier.objects.order_by("min_amount"))


def fee_rows(tiers: list[FeeTier]) -> list[FeeRow]:
    rows = []
    for tier in tiers:
        percent = ""
        if tier.percent_basis_points:
            percent = formats.number_format(Decimal(tier.percent_basis_points) / Decimal(100))
        rows.append(FeeRow(tier.min_amount, tier.max_amount, tier.flat_fee, percent,
                           tier.minimum_fee, tier.maximum_fee))
    return rows


def fee_examples(tiers: list[FeeTier], values=(500_000, 2_500_000, 10_000_000, 50_000_000)) -> list[tuple[int, int]]:
    """``(transaction value, fee)`` for a few typical values, computed from the same tiers."""
    examples = []
    for value in values:
        tier = next((t for t in tiers if t.min_amount <= value and (t.max_amount is None or value <= t.max_amount)),
                    None)
        if tier is not None:
            examples.append((value, tier_fee(tier, value)))
    return examples
