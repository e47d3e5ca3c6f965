"""The working-day calendar behind every deadline (WIB, Indonesian holidays, staff overrides)."""
import datetime as dt

import pytest

from intrasa.wib import WIB
from workdays.calendar import WorkingCalendar, working_calendar
from workdays.models import CalendarOverride


def wib(*args):
    return dt.datetime(*args, tzinfo=WIB)


def test_weekends_and_public_holidays_are_not_working_days():
    cal = WorkingCalendar()
    assert cal.is_working_day(dt.date(2026, 6, 11))  # Thursday
    assert not cal.is_working_day(dt.date(2026, 6, 13))  # Saturday
    assert not cal.is_working_day(dt.date(2026, 8, 17))  # Independence Day
    assert not cal.is_working_day(dt.date(2026, 12, 24))  # cuti bersama Natal
    assert cal.holiday_name(dt.date(2026, 8, 17))


def test_add_working_days_skips_weekend_and_holidays():
    cal = WorkingCalendar()
    # Friday 14 Aug 2026 10.00 + 1 working day: Sat, Sun and Mon 17 Aug (holiday) skipped.
    assert cal.add_working_days(wib(2026, 8, 14, 10, 0), 1) == wib(2026, 8, 18, 10, 0)
    assert cal.add_working_days(wib(2026, 6, 11, 14, 0), 0) == wib(2026, 6, 11, 14, 0)


def test_idul_fitri_and_cuti_bersama_block_a_whole_week():
    cal = WorkingCalendar()
    # Thursday 19 Mar 2026 (Nyepi) to Tuesday 24 Mar: all days off in 2026.
    assert cal.add_working_days(wib(2026, 3, 17, 9, 0), 1) == wib(2026, 3, 25, 9, 0)


def test_working_hours_count_only_working_days():
    cal = WorkingCalendar()
    # 1×24 working hours from Friday 16.00 ends Monday 16.00.
    assert cal.add_working_hours(wib(2026, 6, 12, 16, 0), 24) == wib(2026, 6, 15, 16, 0)
    # Starting on a Saturday: the clock starts Monday 00.00.
    assert cal.add_working_hours(wib(2026, 6, 13, 11, 0), 24) == wib(2026, 6, 16, 0, 0)
    assert cal.add_working_hours(wib(2026, 6, 11, 1, 0), 5) == wib(2026, 6, 11, 6, 0)


def test_negative_durations_are_refused():
    with pytest.raises(ValueError):
        WorkingCalendar().add_working_days(wib(2026, 6, 11, 1, 0), -1)


@pytest.mark.django_db
def test_staff_overrides_win_in_both_directions():
    CalendarOverride.objects.create(date=dt.date(2026, 6, 11), kind="cuti_bersama", name="Cuti bersama tambahan")
    CalendarOverride.objects.create(date=dt.date(2026, 8, 17), kind="working_day", name="Dipindah")
    cal = working_calendar()
    assert not cal.is_working_day(dt.date(2026, 6, 11))
    assert cal.holiday_name(dt.date(2026, 6, 11)) == "Cuti bersama tambahan"
    assert cal.is_working_day(dt.date(2026, 8, 17))


def test_working_days_between():
    cal = WorkingCalendar()
    # 15–19 June 2026, less Tuesday 16 June (Islamic New Year).
    assert cal.working_days_between(dt.date(2026, 6, 12), dt.date(2026, 6, 19)) == 4
