"""Reads of payouts: the transaction page's card, and the operated 1×24 promise.

The FAQ promises a seller the money within 1×24 working hours of the buyer's confirmation; the
Daily Nominal Total (shared by every payout and refund), the 22.00–05.00 night window for bank
transfers and the wait for a verified account decide whether that holds. ``payout_schedule``
plays the queue forward exactly as the dispatcher works it — oldest promise first
(``QUEUE_ORDER``), each part on the first WIB day whose remaining limit carries it, bank transfers
not before 05.00 — and so gives every open payout an honest expected time, and the morning
forecast the payouts today's limit cannot carry.
"""
import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.core.cache import cache
from django.db.models import F, Prefetch
from django.utils import timezone

from intrasa.wib import WIB, wib_date

from . import rules
from .models import DailyLimitChange, DailyQuota, Disbursement, Payout

logger = logging.getLogger(__name__)

# The order the dispatcher takes queued parts in: the promise due first; refunds carry their own
# policy deadline, payouts without one go last; then first planned first.
QUEUE_ORDER = (F("payout__due_at").asc(nulls_last=True), "payout__created_at", "payout_id", "sequence", "pk")
# Parts still to be sent (or resent): the ones the daily limit decides.
TO_SEND = (Disbursement.Status.QUEUED, Disbursement.Status.RETRYING)
ON_THE_WAY = (Disbursement.Status.SENDING, Disbursement.Status.UNKNOWN, Disbursement.Status.PENDING)
OPEN_PAYOUT = (Payout.Status.AWAITING_DESTINATION, Payout.Status.IN_PROGRESS, Payout.Status.NEEDS_ACTION)
HORIZON_DAYS = 60


def payouts_for(*, escrow_transaction, user):
    """The payouts of a transaction that ``user`` receives, with their parts (two queries)."""
    return (Payout.objects.filter(escrow_transaction=escrow_transaction, recipient=user)
            .prefetch_related(Prefetch("parts", queryset=Disbursement.objects.order_by("sequence")))
            .order_by("created_at"))


@dataclass
class Outlook:
    """When a payout is expected to be paid out, and why not sooner."""

    payout_id: int
    due_at: dt.datetime | None
    expected_at: dt.datetime | None = None
    reason: str = ""  # "" | daily_limit | night | destination | held | failed | beyond_horizon
    parts: list = field(default_factory=list)  # (part id, amount, planned instant or None)
    # What it was computed from: the payout's status, its promise and its unfinished parts' (``outlook_stamp``).
    stamp: str = ""

    @property
    def late(self) -> bool:
        if self.due_at is None:
            return False
        return self.expected_at is None or self.expected_at > self.due_at


@dataclass
class DayForecast:
    day: dt.date
    limit: int
    used: int
    demand: int  # what is due to go out today (to send or resend), in queue order
    carried: int  # what today's remaining limit carries of it
    not_carried: list  # Outlooks of payouts with a part today's limit cannot carry
    late: list  # Outlooks of payouts expected after their promise
    outlooks: dict

    @property
    def shortfall(self) -> int:
        """How much higher today's limit must be to carry everything due today."""
        return self.demand - self.carried

    @property
    def needs_attention(self) -> bool:
        return bool(self.not_carried or self.late)


class _Days:
    """Remaining Daily Nominal Total per WIB day, from the quota rows and the limit history
    (two queries, whatever the horizon)."""

    def __init__(self, start: dt.date):
        self.rows = {row.day: row for row in DailyQuota.objects.filter(day__gte=start)}
        self.changes = list(DailyLimitChange.objects.order_by("-effective_from", "-created_at")
                            .values_list("effective_from", "limit"))
        self.remaining: dict[dt.date, int] = {}

    def limit(self, day: dt.date) -> int:
        row = self.rows.get(day)
        if row is not None:
            return row.limit
        for effective_from, limit in self.changes:
            if effective_from <= day:
                return limit
        return settings.SENDME_DAILY_NOMINAL_TOTAL

    def room(self, day: dt.date) -> int:
        if day not in self.remaining:
            row = self.rows.get(day)
            self.remaining[day] = self.limit(day) - (row.used if row else 0)
        return self.remaining[day]

    def take(self, day: dt.date, amount: int) -> None:
        self.remaining[day] = self.room(day) - amount


def _earliest(part: Disbursement, now: dt.datetime) -> dt.datetime:
    """The first instant the dispatcher may send ``part``: its own wait, then the night window."""
    wait = part.next_attempt_at if part.status == Disbursement.Status.RETRYING else part.not_before
    moment = max(now, wait) if wait else now
    return rules.earliest_send(moment, part.kind)


def _chunks(part: Disbursement, day_limit: int) -> list[int]:
    """A never-sent part larger than the day's limit is re-split by the dispatcher."""
    if part.sent_at is not None or part.amount <= day_limit:
        return [part.amount]
    minimum = rules.min_part(part.kind)
    return rules.split_amount(part.amount, max(rules.part_limit(part.kind, day_limit), 2 * minimum), minimum)


def payout_schedule(*, now: dt.datetime | None = None) -> tuple[dict, dict]:
    """Play the queue forward. Returns ({payout id: Outlook}, {part id: (day due, [(day, at)], part)}).

    Constant queries: open payouts, their open parts, quota rows, limit history."""
    now = now or timezone.now()
    today = wib_date(now)
    days = _Days(today)
    payouts = {p.pk: p for p in Payout.objects.filter(status__in=OPEN_PAYOUT)}
    outlooks = {pk: Outlook(payout_id=pk, due_at=p.due_at) for pk, p in payouts.items()}
    for pk, payout in payouts.items():
        if payout.status == Payout.Status.AWAITING_DESTINATION:
            outlooks[pk].reason = "destination"
    parts = (Disbursement.objects.filter(payout_id__in=list(payouts))
             .exclude(status__in=[Disbursement.Status.SUCCEEDED, Disbursement.Status.CANCELLED])
             .select_related("payout", "retried_by").order_by(*QUEUE_ORDER))
    plan = {}
    finished: dict[int, dt.datetime | None] = {}  # payout pk -> when its last part lands (None: unknown)
    part_states: dict[int, list[tuple[int, str]]] = {pk: [] for pk in payouts}
    for part in parts:
        part_states[part.payout_id].append((part.pk, part.status))
        outlook = outlooks[part.payout_id]
        if part.status in (Disbursement.Status.FAILED, Disbursement.Status.REVERSED):
            if not hasattr(part, "retried_by"):
                outlook.reason = outlook.reason or "failed"
                finished[part.payout_id] = None
            continue
        if part.status == Disbursement.Status.HELD:
            outlook.reason = "held"
            finished[part.payout_id] = None
            continue
        if part.status in ON_THE_WAY:
            outlook.parts.append((part.pk, part.amount, now))
            finished.setdefault(part.payout_id, now)
            continue
        earliest = _earliest(part, now)
        placed: list[tuple[dt.date | None, dt.datetime | None]] = []  # (None, None): beyond the horizon
        day = wib_date(earliest)
        for chunk in _chunks(part, days.limit(day)):
            d = day
            while d <= today + dt.timedelta(days=HORIZON_DAYS):
                if chunk <= days.room(d):
                    days.take(d, chunk)
                    at = earliest if d == day else rules.earliest_send(dt.datetime.combine(d, dt.time(0), WIB),
                                                                        part.kind)
                    placed.append((d, at))
                    break
                d += dt.timedelta(days=1)
            else:
                placed.append((None, None))
        # A part the dispatcher already pushed off today for the limit still counts as today's
        # demand that today's limit did not carry (so the forecast tells the same after 05.00).
        pushed_off_today = (part.waiting_for == Disbursement.Wait.DAILY_LIMIT
                            and wib_date(earliest) == today + dt.timedelta(days=1))
        plan[part.pk] = (today if pushed_off_today else wib_date(earliest), placed, part)
        if any(at is None for _d, at in placed):
            outlook.reason = outlook.reason or "beyond_horizon"
            finished[part.payout_id] = None
            outlook.parts.append((part.pk, part.amount, None))
            continue
        at = max(at for _d, at in placed if at is not None)  # every one is set: checked just above
        outlook.parts.append((part.pk, part.amount, at))
        if wib_date(at) > wib_date(earliest):
            outlook.reason = outlook.reason or "daily_limit"
        elif earliest > now and rules.night_hold_until(now, part.kind) is not None:
            outlook.reason = outlook.reason or "night"
        if part.payout_id not in finished or finished[part.payout_id] is not None:
            finished[part.payout_id] = max(finished.get(part.payout_id) or at, at)
    for pk, outlook in outlooks.items():
        if pk in finished and outlook.reason not in ("held", "failed", "destination"):
            outlook.expected_at = finished[pk]
        outlook.stamp = _stamp(payouts[pk].status, payouts[pk].due_at, part_states[pk])
    return outlooks, plan


# The transaction page's expected times come from ``payout_schedule``, whose cost grows with the
# queue: about 15 ms with 100 parts waiting and 1.6 s with 10 000 (a night of bank transfers at
# scale; benchmarks "growth"). A page must not pay that on every view, so the replay is kept in the
# cache (``payout_outlooks``):
# * it is played again once it is ``PAYOUT_OUTLOOK_SECONDS`` old (``OUTLOOKS_FRESH_KEY`` gone), or
#   when a payout asked for is not in it as the payout is now (a newer payout, or one that moved);
# * by one process at a time, and at most once per ``OUTLOOKS_REPLAY_PAUSE`` seconds
#   (``OUTLOOKS_REPLAY_LOCK``): the others show what is kept (at most twice the kept time old);
# * a kept outlook is shown only while the payout is as it was when the queue was played: the same
#   status, the same promise and the same unfinished parts in the same states (``outlook_stamp``, checked against the
#   rows the card has just read); otherwise the card shows no expected time until a new replay;
# * an expected time already past is said as "now" (parts on their way when the queue was played);
# * only open payouts are asked for (the card shows a finished payout's own times, not a forecast);
# * when the cache or the replay fails, the card shows no expected time (logged), never an error.
# The dispatcher, the morning forecast and the treasury page play the queue themselves, fresh.
FINISHED_PARTS = (Disbursement.Status.SUCCEEDED, Disbursement.Status.CANCELLED)  # payout_schedule skips them
# The kept form is plain values (no pickled class), under a key named after the fields it holds: a
# release that changes ``Outlook`` reads its own keys, never another release's.
_KEPT_FIELDS = ("stamp", "due_at", "expected_at", "reason", "parts")
_KEPT_FORMAT = hashlib.sha256(",".join(_KEPT_FIELDS).encode()).hexdigest()[:8]
OUTLOOKS_KEY = f"payout-outlook:{_KEPT_FORMAT}:{{}}"
OUTLOOKS_FRESH_KEY = f"payout-outlook:{_KEPT_FORMAT}:fresh"
OUTLOOKS_REPLAY_LOCK = "payout-outlook:replaying"
OUTLOOKS_REPLAY_PAUSE = 10


def _stamp(status: str, due_at: dt.datetime | None, parts) -> str:
    # The promise too: the refund beat job moves it (a day off declared) without touching status or parts.
    return (status + "|" + (due_at.isoformat() if due_at else "") + "|"
            + ",".join(f"{pk}:{state}" for pk, state in sorted(parts) if state not in FINISHED_PARTS))


def outlook_stamp(payout: Payout) -> str:
    """The state a payout's expected time depends on, from the payout and its parts as loaded
    (``payouts_for`` prefetches them: no query)."""
    return _stamp(payout.status, payout.due_at, [(part.pk, part.status) for part in payout.parts.all()])


def payout_outlooks(*, payouts) -> dict[int, Outlook]:
    """The expected time (``Outlook``) of each open payout of ``payouts`` (with their parts loaded),
    from the kept replay of the queue (one cache round trip), or from a new replay when the kept one
    is old or does not match a payout as it is now (see above). A payout missing from the answer has
    no expected time to show now."""
    stamps = {payout.pk: outlook_stamp(payout) for payout in payouts}
    if not stamps:
        return {}
    try:
        kept, fresh = _kept_outlooks(stamps)
        if (fresh and len(kept) == len(stamps)) or not cache.add(OUTLOOKS_REPLAY_LOCK, 1,
                                                                  timeout=OUTLOOKS_REPLAY_PAUSE):
            return _as_of_now(kept)
        outlooks, _plan = payout_schedule()
        _keep(outlooks)
    except Exception:  # the cache or the replay failed: no expected time beats an error page
        logger.exception("payout outlooks unavailable: the payout card shows no expected time")
        return {}
    return _as_of_now({pk: outlooks[pk] for pk, stamp in stamps.items()
                       if pk in outlooks and outlooks[pk].stamp == stamp})


def _kept_outlooks(stamps: dict[int, str]) -> tuple[dict[int, Outlook], bool]:
    keys = {OUTLOOKS_KEY.format(pk): pk for pk in stamps}
    found = cache.get_many([*keys, OUTLOOKS_FRESH_KEY])
    fresh = found.pop(OUTLOOKS_FRESH_KEY, None) is not None
    kept = {}
    for key, values in found.items():
        pk = keys[key]
        outlook = Outlook(payout_id=pk, **dict(zip(_KEPT_FIELDS, values, strict=True)))
        if outlook.stamp == stamps[pk]:
            kept[pk] = outlook
    return kept, fresh


def _keep(outlooks: dict[int, Outlook]) -> None:
    seconds = max(1, settings.PAYOUT_OUTLOOK_SECONDS)
    cache.set_many({OUTLOOKS_KEY.format(pk): tuple(getattr(outlook, name) for name in _KEPT_FIELDS)
                    for pk, outlook in outlooks.items()}, timeout=2 * seconds)
    cache.set(OUTLOOKS_FRESH_KEY, 1, timeout=seconds)


def _as_of_now(outlooks: dict[int, Outlook]) -> dict[int, Outlook]:
    now = timezone.now()
    return {pk: (replace(outlook, expected_at=now) if outlook.expected_at and outlook.expected_at < now else outlook)
            for pk, outlook in outlooks.items()}


def promise_forecast(*, now: dt.datetime | None = None) -> DayForecast:
    """The day's forecast: what is due to go out today, what today's limit carries, the payouts it
    cannot carry (a part pushed to a later day) and the payouts expected after their promise."""
    now = now or timezone.now()
    today = wib_date(now)
    outlooks, plan = payout_schedule(now=now)
    demand = carried = 0
    pushed = set()
    for due_day, placed, part in plan.values():
        if due_day != today:
            continue
        demand += part.amount
        if all(d == today for d, _at in placed):
            carried += part.amount
        else:
            pushed.add(part.payout_id)
    row = DailyQuota.objects.filter(day=today).first()
    limit = row.limit if row else _Days(today).limit(today)
    not_carried = [outlooks[pk] for pk in sorted(pushed, key=lambda pk: due_key(outlooks[pk]))]
    late = sorted((o for o in outlooks.values() if o.late), key=due_key)
    return DayForecast(day=today, limit=limit, used=row.used if row else 0, demand=demand, carried=carried,
                       not_carried=not_carried, late=late, outlooks=outlooks)


def due_key(outlook: Outlook):
    return (outlook.due_at is None, outlook.due_at or dt.datetime.max.replace(tzinfo=dt.timezone.utc),
            outlook.payout_id)
