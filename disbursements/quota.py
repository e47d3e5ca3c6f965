"""The Daily Nominal Total, enforced with a conditional UPDATE on the WIB day's quota row.

``reserve`` is the only way to use quota: ``UPDATE … SET used = used + amount WHERE day = d AND
used + amount <= limit``. PostgreSQL re-checks the condition after waiting for a concurrent
updater's row lock, so any number of workers together never exceed the limit; no read-then-write.
"""
import datetime as dt

from django.conf import settings
from django.db.models import F, Subquery, Value
from django.db.models.functions import Coalesce, Greatest

from .models import DailyLimitChange, DailyQuota


def _changes_in_force(day: dt.date):
    return DailyLimitChange.objects.filter(effective_from__lte=day).order_by("-effective_from", "-created_at")


def limit_for(day: dt.date) -> int:
    change = _changes_in_force(day).first()
    return change.limit if change else settings.SENDME_DAILY_NOMINAL_TOTAL


def limit_for_expression(day: dt.date) -> Coalesce:
    """``limit_for(day)`` as an expression, for a query that reads it with other rows (no query of
    its own)."""
    limit_field = DailyLimitChange._meta.get_field("limit")
    return Coalesce(Subquery(_changes_in_force(day).values("limit")[:1]),
                    Value(settings.SENDME_DAILY_NOMINAL_TOTAL, output_field=limit_field), output_field=limit_field)


def quota_for(day: dt.date) -> DailyQuota:
    quota = DailyQuota.objects.filter(day=day).first()
    if quota is None:  # the first reservation of the day reads the limit in force
        quota, _ = DailyQuota.objects.get_or_create(day=day, defaults={"limit": limit_for(day)})
    return quota


def reserve(day: dt.date, amount: int) -> bool:
    """Take ``amount`` from ``day``'s quota if it fits entirely; ``False`` (and nothing taken) if not."""
    taken = DailyQuota.objects.filter(day=day, used__lte=F("limit") - amount).update(used=F("used") + amount)
    if taken:
        return True
    if DailyQuota.objects.filter(day=day).exists():
        return False  # the day's row exists and the amount does not fit
    quota_for(day)  # first reservation of the day: create the row, then try once more
    return DailyQuota.objects.filter(day=day, used__lte=F("limit") - amount).update(used=F("used") + amount) == 1


def release(day: dt.date, amount: int) -> None:
    """Give back quota of a part that did not go out (final failure)."""
    DailyQuota.objects.filter(day=day, used__gte=amount).update(used=F("used") - amount)


def apply_limit_change(*, effective_from: dt.date, limit: int) -> None:
    """Existing quota rows from that day on take the new limit (never below what they used)."""
    DailyQuota.objects.filter(day__gte=effective_from).update(limit=Greatest(limit, F("used")))
