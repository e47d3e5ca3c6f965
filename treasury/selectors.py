"""Reads for the treasury page and the staff SLA dashboard. Each function costs a fixed number of
queries whatever the number of rows (aggregates with conditional ``Count``/``Sum``)."""
import calendar
import datetime as dt
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.db.models import BigIntegerField, Count, Max, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Cast, TruncMonth
from django.utils import timezone

from disbursements import selectors as payout_selectors
from disbursements.models import DailyLimitChange, DailyQuota, Disbursement, Payout
from faspay import sendme
from faspay.errors import FaspayUnavailable, MalformedAnswer
from intrasa.wib import WIB, to_wib
from payments.models import Bill
from transactions.models import EscrowTransaction, Status, TransactionEvent

from . import rules
from .models import ReconciliationItem
from .services import merchant_joined_on, penalty_first_month

# --- SendMe deposit ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DepositBalance:
    amount: int | None = None
    available: int | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def sendme_balance(client=None) -> DepositBalance:
    """Ask SendMe for the deposit balance; any failure becomes a message, never an exception."""
    from django.utils.translation import gettext as _

    try:
        if client is None:
            client = sendme.default_client()
            client.timeout = min(client.timeout, settings.TREASURY_BALANCE_TIMEOUT_SECONDS)
        result = client.balance_inquiry()
    except MalformedAnswer as exc:
        return DepositBalance(error=_("SendMe's answer could not be read (%(detail)s). The balance is "
                                      "unknown.") % {"detail": exc})
    except FaspayUnavailable as exc:
        return DepositBalance(error=_("SendMe is unreachable (%(detail)s). The balance is unknown; "
                                      "try again in a few minutes.") % {"detail": exc})
    except Exception as exc:  # e.g. a missing signing key: the page must still load
        return DepositBalance(error=_("The balance inquiry could not be made: %(detail)s")
                              % {"detail": exc.__class__.__name__})
    if not 200 <= result.http_status < 300 or not result.accounts:
        return DepositBalance(error=_("SendMe refused the balance inquiry: %(code)s %(message)s")
                              % {"code": result.response_code, "message": result.message})
    account = result.accounts[0]
    return DepositBalance(amount=account.amount, available=account.available)


# --- quota, queue and volume ------------------------------------------------------------------

def _limit_lookup(changes: list[tuple[dt.date, int]]):
    """``limit_for`` without a query per day: ``changes`` newest first (effective_from, limit)."""

    def limit_on(day: dt.date) -> int:
        for effective_from, limit in changes:
            if effective_from <= day:
                return limit
        return settings.SENDME_DAILY_NOMINAL_TOTAL

    return limit_on


def _limit_changes() -> list[tuple[dt.date, int]]:
    return list(DailyLimitChange.objects.order_by("-effective_from", "-created_at")
                .values_list("effective_from", "limit"))


@dataclass(frozen=True)
class DayVolume:
    day: dt.date
    used: int
    limit: int


def daily_volume(*, today: dt.date, days: int = 30) -> list[DayVolume]:
    """The last ``days`` WIB days (oldest first): quota used against the limit of that day."""
    start = today - dt.timedelta(days=days - 1)
    rows = dict(DailyQuota.objects.filter(day__gte=start, day__lte=today).values_list("day", "used"))
    limits = dict(DailyQuota.objects.filter(day__gte=start, day__lte=today).values_list("day", "limit"))
    limit_on = _limit_lookup(_limit_changes())
    return [DayVolume(day=d, used=rows.get(d, 0), limit=limits.get(d) or limit_on(d))
            for d in (start + dt.timedelta(days=i) for i in range(days))]


@dataclass
class TreasuryOverview:
    today: dt.date
    limit: int
    used: int
    queued_count: int
    queued_amount: int
    queued: list = field(default_factory=list)
    volume: list[DayVolume] = field(default_factory=list)

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)


def treasury_overview(*, now: dt.datetime | None = None, queue_rows: int = 50) -> TreasuryOverview:
    today = to_wib(now or timezone.now()).date()
    volume = daily_volume(today=today)
    waiting = Disbursement.objects.filter(status=Disbursement.Status.QUEUED,
                                          waiting_for__in=[Disbursement.Wait.DAILY_LIMIT, Disbursement.Wait.NIGHT])
    totals = waiting.aggregate(count=Count("pk"), amount=Sum("amount"))
    queued = list(waiting.select_related("payout__escrow_transaction").order_by("not_before", "pk")[:queue_rows])
    return TreasuryOverview(today=today, limit=volume[-1].limit, used=volume[-1].used,
                            queued_count=totals["count"], queued_amount=totals["amount"] or 0, queued=queued,
                            volume=volume)


def payout_promise(*, now: dt.datetime | None = None):
    """The day's payout forecast and its rows: payouts today's limit cannot carry or that will miss
    their promise, oldest promise first (constant queries)."""
    forecast = payout_selectors.promise_forecast(now=now)
    pushed = {o.payout_id for o in forecast.not_carried}
    wanted = [*forecast.not_carried, *(o for o in forecast.late if o.payout_id not in pushed)]
    payouts = Payout.objects.select_related("escrow_transaction").in_bulk([o.payout_id for o in wanted])
    rows = [{"payout": payouts[o.payout_id], "outlook": o, "pushed": o.payout_id in pushed}
            for o in sorted(wanted, key=payout_selectors.due_key)]
    return forecast, rows


# --- terms C: penalty forecast ----------------------------------------------------------------

@dataclass(frozen=True)
class PenaltyMonth:
    month: dt.date
    target: int
    achieved: int
    projected: int
    state: str  # "closed" | "running" | "future"

    @property
    def penalty_now(self) -> int:
        return rules.monthly_penalty(self.target, self.achieved)

    @property
    def penalty_projected(self) -> int:
        return rules.monthly_penalty(self.target, self.projected)

    @property
    def gap_projected(self) -> int:
        return rules.transaction_gap(self.target, self.projected)


@dataclass(frozen=True)
class PenaltyForecast:
    start: dt.date | None
    end: dt.date | None
    invoice_on: dt.date | None
    months: list[PenaltyMonth]
    target: int
    # Why no penalty is forecast: "" (one is), "joined_before" (terms C apply only to merchants who
    # joined on or after 1 April 2025), "join_date_unknown", "go_live_unknown", "no_target".
    not_applicable: str = ""
    joined_on: dt.date | None = None

    @property
    def total_projected(self) -> int:
        return sum(m.penalty_projected for m in self.months)

    @property
    def total_so_far(self) -> int:
        return sum(m.penalty_now for m in self.months if m.state == "closed")


def penalty_forecast(*, now: dt.datetime | None = None) -> PenaltyForecast:
    """The running three-month penalty period (terms C), month by month.

    Achieved transactions are SendMe disbursements (bank transfers and e-wallet top-ups, every
    part counts: each is one SendMe transaction) that succeeded in the WIB month. The running
    month is projected linearly from its days so far; later months of the period at the running
    month's pace (or the last closed month's, early in a month).
    """
    local = to_wib(now or timezone.now())
    target = settings.TREASURY_MONTHLY_TRANSACTION_TARGET
    joined_on = merchant_joined_on()
    first_month = penalty_first_month()
    reason = penalty_not_applicable(joined_on=joined_on, first_month=first_month, target=target)
    if reason in ("joined_before", "join_date_unknown", "go_live_unknown"):
        return PenaltyForecast(start=None, end=None, invoice_on=None, months=[], target=target,
                               not_applicable=reason, joined_on=joined_on)
    assert first_month is not None  # otherwise the reason is "go_live_unknown", returned just above
    start, end, invoice_on = rules.penalty_period(local.date(), first_month)
    if local.date() < first_month:
        start, end, invoice_on = first_month, rules.add_months(first_month, 2), rules.add_months(first_month, 3)
    counts = _monthly_counts(start, invoice_on)
    running = rules.month_start(local.date())
    days_in_month = calendar.monthrange(running.year, running.month)[1]
    elapsed = (local - dt.datetime.combine(running, dt.time(0, 0), WIB)).total_seconds() / 86400
    pace = None
    months = []
    for i in range(3):
        month = rules.add_months(start, i)
        achieved = counts.get(month, 0)
        if month < running:
            months.append(PenaltyMonth(month, target, achieved, achieved, "closed"))
            pace = achieved
        elif month == running:
            projected = round(achieved * days_in_month / elapsed) if elapsed >= 1 else (pace or achieved)
            projected = max(projected, achieved)
            months.append(PenaltyMonth(month, target, achieved, projected, "running"))
            pace = projected
        else:
            months.append(PenaltyMonth(month, target, 0, pace or 0, "future"))
    return PenaltyForecast(start=start, end=end, invoice_on=invoice_on, months=months, target=target,
                           not_applicable=reason, joined_on=joined_on)


def penalty_not_applicable(*, joined_on: dt.date | None, first_month: dt.date | None, target: int) -> str:
    if joined_on is None:
        return "join_date_unknown"
    if not rules.penalty_applies(joined_on):
        return "joined_before"
    if first_month is None:
        return "go_live_unknown"
    if not target:
        return "no_target"
    return ""


def _monthly_counts(start: dt.date, end: dt.date) -> dict:
    """SendMe transfers and top-ups that succeeded, per WIB month in [start, end)."""
    period_start = dt.datetime.combine(start, dt.time(0, 0), WIB)
    period_end = dt.datetime.combine(end, dt.time(0, 0), WIB)
    counts = dict(Disbursement.objects.filter(status=Disbursement.Status.SUCCEEDED, completed_at__gte=period_start,
                                              completed_at__lt=period_end)
                  .annotate(month=TruncMonth("completed_at", tzinfo=WIB)).values("month")
                  .annotate(n=Count("pk")).values_list("month", "n"))
    return {to_wib(k).date() if isinstance(k, dt.datetime) else k: v for k, v in counts.items()}


def succeeded_transfers_in(month: dt.date) -> int:
    month = rules.month_start(month)
    return _monthly_counts(month, rules.add_months(month, 1)).get(month, 0)


def penalty_for_period(start: dt.date, end: dt.date) -> int:
    """The penalty terms C charge for the closed months ``start``..``end`` (inclusive), or 0 where
    they do not apply (join date, target)."""
    target = settings.TREASURY_MONTHLY_TRANSACTION_TARGET
    if penalty_not_applicable(joined_on=merchant_joined_on(), first_month=start, target=target):
        return 0
    counts = _monthly_counts(rules.month_start(start), rules.add_months(rules.month_start(end), 1))
    total, month = 0, rules.month_start(start)
    while month <= end:
        total += rules.monthly_penalty(target, counts.get(month, 0))
        month = rules.add_months(month, 1)
    return total


# --- SLA dashboard ----------------------------------------------------------------------------

OPEN_PAYOUT = [Payout.Status.AWAITING_DESTINATION, Payout.Status.IN_PROGRESS, Payout.Status.NEEDS_ACTION]
AGE_BUCKETS = (("lt3", 0, 3), ("3to7", 3, 7), ("gt7", 7, None))


def optional_model(app_label: str, model_name: str):
    """A model of an app another engineer may not have finished (disputes, refunds)."""
    if not apps.is_installed(app_label):
        return None
    try:
        return apps.get_model(app_label, model_name)
    except LookupError:
        return None


def _age_counts(now: dt.datetime, field: str) -> dict:
    return {name: Count("pk", filter=Q(**{f"{field}__lte": now - dt.timedelta(days=low)})
                        & (Q(**{f"{field}__gt": now - dt.timedelta(days=high)}) if high else Q()))
            for name, low, high in AGE_BUCKETS}


def disputes_by_age(now: dt.datetime) -> dict:
    """Open disputes in age buckets: the disputes app's model when it exists, else transactions in
    ``disputed`` aged from their ``open_dispute`` timeline event."""
    Dispute = optional_model("disputes", "Dispute")
    if Dispute is not None and {"created_at", "status"} <= {f.name for f in Dispute._meta.fields}:
        closed = [value for value, _label in getattr(Dispute._meta.get_field("status"), "choices", None) or []
                  if value in ("resolved", "closed", "withdrawn", "cancelled", "released", "refunded", "split")]
        qs = Dispute.objects.exclude(status__in=closed)
        return {"source": "disputes", **qs.aggregate(**_age_counts(now, "created_at"))}
    opened = (TransactionEvent.objects.filter(escrow_transaction=OuterRef("pk"), action="open_dispute")
              .order_by().values("escrow_transaction").annotate(at=Max("created_at")).values("at"))
    qs = EscrowTransaction.objects.filter(status=Status.DISPUTED).annotate(opened_at=Subquery(opened))
    return {"source": "transactions", **qs.aggregate(**_age_counts(now, "opened_at"))}


def refunds_by_stage() -> list[tuple[str, str, int]]:
    """(stage value, label, count): the refunds app's requests when it exists, else refund payouts."""
    Refund = optional_model("refunds", "RefundRequest") or optional_model("refunds", "Refund")
    model = Refund if Refund is not None and "status" in {f.name for f in Refund._meta.fields} else None
    qs = model.objects.all() if model else Payout.objects.filter(purpose=Payout.Purpose.BUYER_REFUND)
    labels = dict((model or Payout)._meta.get_field("status").choices or [])
    rows = qs.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n")
    return [(status, str(labels.get(status, status)), n) for status, n in sorted(rows)]


def sla_counts(*, now: dt.datetime | None = None) -> dict:
    """Everything the staff index shows, in five queries."""
    now = now or timezone.now()
    txn = EscrowTransaction.objects.aggregate(
        awaiting_verification=Count("pk", filter=Q(status=Status.PAID)),
        shipping_overdue=Count("pk", filter=Q(status=Status.VERIFIED, shipping_deadline__lt=now)),
        confirmations_due=Count("pk", filter=Q(status=Status.SHIPPED, inspection_ends_at__lte=now + dt.timedelta(hours=24))),
    )
    bills = Bill.objects.aggregate(paid_not_verified=Count("pk", filter=Q(status=Bill.Status.PAID)))
    payouts = Payout.objects.filter(status__in=OPEN_PAYOUT).aggregate(
        payouts_due=Count("pk", filter=Q(due_at__gt=now)),
        payouts_due_24h=Count("pk", filter=Q(due_at__gt=now, due_at__lte=now + dt.timedelta(hours=24))),
        payouts_overdue=Count("pk", filter=Q(due_at__lte=now)),
    )
    return {**txn, **bills, **payouts, "disputes": disputes_by_age(now), "refunds": refunds_by_stage(),
            "now": now}



# --- differences Finance still work on --------------------------------------------------------

def transactions_with_open_reconciliation():
    """Primary keys of the transactions a reconciliation item is still open on: the nightly
    reconciliation found a difference on the transaction itself, on one of its bills or on one of
    its SendMe transfers, and Finance have not resolved it (they need the payer, the account and
    its holder to do so)."""
    unresolved = Q(state=ReconciliationItem.State.OPEN)

    def targets(model):
        # The item names its target generically (label and primary key as text).
        return (ReconciliationItem.objects.filter(unresolved, object_type=model._meta.label).exclude(object_id="")
                .annotate(target=Cast("object_id", BigIntegerField())).values("target"))

    return EscrowTransaction.objects.filter(
        Q(pk__in=targets(EscrowTransaction))
        | Q(pk__in=Bill.objects.filter(pk__in=targets(Bill)).values("escrow_transaction_id"))
        | Q(pk__in=Disbursement.objects.filter(pk__in=targets(Disbursement)).values("payout__escrow_transaction_id"))
    ).values("pk")


def reconciliation_items_on(transaction_ids):
    """The reconciliation items about these transactions: on a transaction itself, on one of its
    bills or on one of its SendMe transfers (the item names its target by label and primary key as
    text), whatever their state. The retention job removes Finance's notes on them with the
    transactions' records (``privacy.purge``)."""
    ids = list(transaction_ids)
    bills = Bill.objects.filter(escrow_transaction_id__in=ids).values_list("pk", flat=True)
    parts = Disbursement.objects.filter(payout__escrow_transaction_id__in=ids).values_list("pk", flat=True)

    def on(model, pks):
        return Q(object_type=model._meta.label, object_id__in=[str(pk) for pk in pks])

    return ReconciliationItem.objects.filter(on(EscrowTransaction, ids) | on(Bill, bills) | on(Disbursement, parts))
