"""The working-day calendar for every deadline in INTRASA (WIB).

A working day is Monday to Friday that is neither an Indonesian public holiday nor cuti bersama
(the ``holidays`` package, categories ``public`` and ``government``), unless staff have recorded an
override for that date (``CalendarOverride``), which always wins.

"1×24 jam kerja" (the FAQ's payout promise) is counted as 24 hours of working days: the clock
runs only on working days, from 00.00 to 24.00 WIB.
"""
import datetime as dt
from functools import lru_cache

import holidays

from intrasa.wib import WIB, to_wib

ONE_DAY = dt.timedelta(days=1)
OVERRIDES_CACHE_KEY = "workdays:overrides"


def forget_overrides(**kwargs) -> None:
    from django.core.cache import cache

    cache.delete(OVERRIDES_CACHE_KEY)


def forget_overrides_now_and_on_commit(**kwargs) -> None:
    """A saved or deleted override (any path: the services, the admin, a shell): forgotten now, and
    again once committed, because a request that loads the calendar between the save and the commit
    still reads the old rows and would cache them for an hour."""
    from django.db import transaction

    forget_overrides()
    transaction.on_commit(forget_overrides)


@lru_cache(maxsize=32)
def _package_holidays(year: int) -> dict[dt.date, str]:
    return dict(
        holidays.Indonesia(years=year, categories=("public", "government"), language="id")
    )


class WorkingCalendar:
    """Holidays plus staff overrides, loaded once; answer many questions without more queries."""

    def __init__(self, overrides: dict[dt.date, tuple[bool, str]] | None = None):
        # date → (is_day_off, name)
        self._overrides = overrides or {}

    @classmethod
    def load(cls) -> "WorkingCalendar":
        """The calendar with staff overrides, cached (the table changes a few times a year; saving
        or deleting an override clears the cache, see ``workdays.apps``)."""
        from django.core.cache import cache

        from .models import CalendarOverride

        overrides = cache.get(OVERRIDES_CACHE_KEY)
        if overrides is None:
            overrides = {
                day: (kind != CalendarOverride.Kind.WORKING_DAY, name)
                for day, kind, name in CalendarOverride.objects.values_list("date", "kind", "name")
            }
            cache.set(OVERRIDES_CACHE_KEY, overrides, timeout=60 * 60)
        return cls(overrides)

    @classmethod
    def from_cached(cls, raw) -> "WorkingCalendar | None":
        """The calendar from the cached overrides as read raw from Redis (``OVERRIDES_CACHE_KEY``
        fetched on a caller's own round trip), or None when they are not cached."""
        from django.core.cache import cache

        if raw is None:
            return None
        return cls(cache._cache._serializer.loads(raw))  # type: ignore[attr-defined]  # Django's Redis backend internals

    def holiday_name(self, day: dt.date) -> str | None:
        if day in self._overrides:
            is_off, name = self._overrides[day]
            return name if is_off else None
        return _package_holidays(day.year).get(day)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self._overrides:
            return not self._overrides[day][0]
        return day.weekday() < 5 and day not in _package_holidays(day.year)

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after ``day``."""
        day += ONE_DAY
        while not self.is_working_day(day):
            day += ONE_DAY
        return day

    def add_working_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """The same WIB clock time on the ``days``-th working day after ``start``'s date."""
        if days < 0:
            raise ValueError("days must not be negative")
        local = to_wib(start)
        day = local.date()
        for _ in range(days):
            day = self.next_working_day(day)
        return dt.datetime.combine(day, local.timetz()).astimezone(WIB)

    def add_working_hours(self, start: dt.datetime, hours: int) -> dt.datetime:
        """The instant at which ``hours`` hours of working-day time have passed since ``start``."""
        if hours < 0:
            raise ValueError("hours must not be negative")
        local = to_wib(start)
        remaining = dt.timedelta(hours=hours)
        day = local.date()
        if not self.is_working_day(day):
            day = self.next_working_day(day)
            cursor = dt.datetime.combine(day, dt.time(0, 0), WIB)
        else:
            cursor = local
        while True:
            end_of_day = dt.datetime.combine(day + ONE_DAY, dt.time(0, 0), WIB)
            available = end_of_day - cursor
            if remaining <= available:
                return cursor + remaining
            remaining -= available
            day = self.next_working_day(day)
            cursor = dt.datetime.combine(day, dt.time(0, 0), WIB)

    def working_days_between(self, start: dt.date, end: dt.date, *, at_most: int | None = None) -> int:
        """Working days in ``(start, end]``, counted no further than ``at_most`` when given (the walk is
        a day at a time: a caller that caps the result must not walk to a far date first)."""
        count, day = 0, start
        while day < end and (at_most is None or count < at_most):
            day += ONE_DAY
            count += self.is_working_day(day)
        return count


def working_calendar() -> WorkingCalendar:
    return WorkingCalendar.load()
